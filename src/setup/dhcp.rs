//! The DHCP options that send a site's phones to its boot server (guide
//! §7.2-7.3), in the syntax of four DHCP servers.
//!
//! Option 160, a string, is what the phones' factory boot-server setting
//! asks DHCP for. Its value is the FTP server's address, exactly as the
//! guide enters it ("the FTP server IP address as a STRING"), when the
//! site's files sit in the login folder on port 21; otherwise it is a URL
//! (`ftp://host:port/path`), which the phones accept wherever they accept a
//! server address. It never carries a user or a password: the phones log in
//! with the server user and password set on each phone. Option 66 (TFTP
//! server name, also a string) is added when the site has an IP6000, which
//! asks for 66 rather than 160.

use crate::error::DhcpError;
use crate::site::model::{Model, Site, TargetUrl};

/// A DHCP server's configuration language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// ISC dhcpd: an `option … code 160 = string;` declaration and its use.
    Isc,
    /// Kea DHCPv4: `option-def` and `option-data`, as JSON to merge into
    /// `Dhcp4`.
    Kea,
    /// dnsmasq: `dhcp-option` lines.
    Dnsmasq,
    /// Windows DHCP Server: PowerShell (`Add-DhcpServerv4OptionDefinition`,
    /// `Set-DhcpServerv4OptionValue`).
    Windows,
}

/// The options one site needs, and what to know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootOptions {
    pub site: String,
    /// The site's target, as written in the site file.
    pub target: String,
    /// Option 160's value (and option 66's).
    pub boot_server: String,
    /// The MACs of the site's IP6000 phones: option 66 is for them.
    pub ip6000: Vec<String>,
    /// What the reader must know, one paragraph each.
    pub notes: Vec<String>,
    /// What makes the options useless as they are (printed as warnings,
    /// and among the notes).
    pub warnings: Vec<String>,
}

/// The name polyops gives option 160 where a server needs one.
const OPTION_160_NAME: &str = "polycom-boot-server";
/// The name the guide gives it in the Windows DHCP console (§7.3 step 3).
const OPTION_160_WINDOWS_NAME: &str = "FTP Server IP Address";
const FACTORY_USER: &str = "PlcmSpIp";

/// The options of `site`. `Err` for a `dir:` target (no server a phone can
/// reach) and for a host or path a DHCP option string cannot carry safely.
pub fn boot_options(site: &Site) -> Result<BootOptions, DhcpError> {
    let TargetUrl::Ftp {
        tls,
        host,
        port,
        path,
    } = &site.target.url
    else {
        return Err(DhcpError::LocalFolder {
            site: site.name.clone(),
            target: site.target.display.clone(),
        });
    };
    check_carried(&site.name, host, path)?;
    let url = *port != 21 || !path.is_empty();
    let boot_server = if url {
        boot_server_url(host, *port, path)
    } else {
        host.clone()
    };
    let ip6000: Vec<String> = site
        .phones
        .iter()
        .filter(|p| p.model == Model::IP6000)
        .map(|p| p.mac.to_string())
        .collect();
    let warnings = unreachable_host(host)
        .map(|what| unreachable(&site.name, host, what))
        .into_iter()
        .collect::<Vec<_>>();
    let mut notes = warnings.clone();
    notes.extend(boot_notes(site, host, url, *tls, &ip6000));
    Ok(BootOptions {
        site: site.name.clone(),
        target: site.target.display.clone(),
        boot_server,
        ip6000,
        notes,
        warnings,
    })
}

/// `Err` for a host or path a DHCP option string cannot carry safely.
fn check_carried(site: &str, host: &str, path: &str) -> Result<(), DhcpError> {
    let host_ok = if host.contains(':') {
        host.chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    if !host_ok {
        return Err(DhcpError::Host {
            site: site.to_owned(),
            host: crate::printable::printable(host),
        });
    }
    if let Some(c) = path
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "-._~/%+".contains(c)))
    {
        return Err(DhcpError::Path {
            site: site.to_owned(),
            character: crate::printable::printable(&c.to_string()),
        });
    }
    Ok(())
}

/// The boot server as a URL: for a port other than 21 or a folder below
/// the login folder.
fn boot_server_url(host: &str, port: u16, path: &str) -> String {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let port = if port == 21 {
        String::new()
    } else {
        format!(":{port}")
    };
    let path = if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    };
    format!("ftp://{host}{port}{path}")
}

/// What the reader must know about the options of `site`, besides the
/// warnings.
fn boot_notes(site: &Site, host: &str, url: bool, tls: bool, ip6000: &[String]) -> Vec<String> {
    let mut notes = Vec::new();
    let mut login = format!(
        "Option 160 is a string: the boot server that the phones' factory setting asks DHCP for (guide §7.2). The phones log in with the server user and password set on each phone (factory default {FACTORY_USER} / {FACTORY_USER}); DHCP does not carry them."
    );
    if site.target.user != FACTORY_USER {
        login.push_str(&format!(
            " This site's target logs in as {}: set the phones' server user to match (Setup > Server Menu, guide §7.1), or give the phones an account of their own on the same folder.",
            site.target.user
        ));
    }
    notes.push(login);
    if url {
        notes.push(
            "The site's files are not in the login folder on port 21, so the value is a URL, which the phones take wherever they take a server address.".to_owned(),
        );
    }
    if tls {
        notes.push(format!(
            "The target is {}, but the phones fetch their files over plain FTP on the same port: the server must also accept a plain FTP login for the phones' account (polyops doctor {} checks it).",
            site.target.display, site.name
        ));
    }
    if host.contains(':') {
        notes.push(format!(
            "{host} is an IPv6 address: the phones of the guide's firmware boot over IPv4; give the boot server an IPv4 address or a DNS name."
        ));
    } else if host.parse::<std::net::Ipv4Addr>().is_err() {
        notes.push(format!(
            "{host} is a DNS name: the phones must be able to resolve it through the DNS servers this DHCP server gives them."
        ));
    }
    notes.push(
        "If option 160 already means something else on this network, set the phones' DHCP Menu > Boot Server to Custom and Boot Opt to a free option number, and use that number here (guide §7.3, note).".to_owned(),
    );
    if !ip6000.is_empty() {
        notes.push(format!(
            "Option 66 (TFTP server name, a string) is for the site's IP6000 phone{} ({}): in their factory boot-server mode (DHCP Menu > Boot Server: Option 66) they ask for option 66, not 160. The guide recommends setting the IP6000's server address by hand instead (§7.1-7.2). Option 66 reaches every client of the scope that boots by TFTP: where other devices use it, leave it out and set the IP6000 by hand.",
            if ip6000.len() == 1 { "" } else { "s" },
            ip6000.join(", ")
        ));
    }
    notes
}

/// The warning about a boot server no phone can reach.
fn unreachable(site: &str, host: &str, what: &str) -> String {
    format!(
        "site {site}: target.url's host {host} is {what}: the phones cannot reach a boot server there; give the target the address the phones reach the FTP server at"
    )
}

/// What a host is that no phone can reach as a boot server: this
/// machine's own (loopback, `localhost`), a link-local address (one
/// network segment, not routed, and not what DHCP hands out), or the
/// unspecified address.
fn unreachable_host(host: &str) -> Option<&'static str> {
    let name = host.to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Some("a loopback name (this machine itself)");
    }
    let ip: std::net::IpAddr = host.parse().ok()?;
    let link_local = match ip {
        std::net::IpAddr::V4(v4) => v4.is_link_local(),
        std::net::IpAddr::V6(v6) => v6.is_unicast_link_local(),
    };
    if ip.is_loopback() {
        Some("a loopback address (this machine itself)")
    } else if ip.is_unspecified() {
        Some("the unspecified address (no machine)")
    } else if link_local {
        Some("a link-local address")
    } else {
        None
    }
}

/// The options in `syntax`, with the notes as comments.
pub fn render(o: &BootOptions, syntax: Syntax) -> String {
    match syntax {
        Syntax::Isc => isc(o),
        Syntax::Kea => kea(o),
        Syntax::Dnsmasq => dnsmasq(o),
        Syntax::Windows => windows(o),
    }
}

fn headline(o: &BootOptions) -> String {
    format!(
        "polyops dhcp {}: the DHCP options that send the site's phones to their boot server, {} (AltiGen guide §7.2-7.3). Made from the site file: change the site, not these lines.",
        o.site, o.target
    )
}

/// The headline and every note as `#` comments, then a note of the
/// server's own.
fn comments(o: &BootOptions, scope: &str) -> String {
    let mut out = super::wrap(&headline(o), 78, "# ");
    for note in o.notes.iter().map(String::as_str).chain([scope]) {
        out.push_str("#\n");
        out.push_str(&super::wrap(note, 78, "# "));
    }
    out
}

fn isc(o: &BootOptions) -> String {
    let mut out = comments(
        o,
        "The option lines may go inside the phones' subnet, pool or host declarations instead of the global scope; the code 160 declaration stays at the top level.",
    );
    out.push_str(&format!(
        "option {OPTION_160_NAME} code 160 = string;\noption {OPTION_160_NAME} \"{}\";\n",
        o.boot_server
    ));
    if !o.ip6000.is_empty() {
        out.push_str(&format!(
            "option tftp-server-name \"{}\";  # option 66, for the IP6000\n",
            o.boot_server
        ));
    }
    out
}

fn kea(o: &BootOptions) -> String {
    let mut global = vec![headline(o)];
    global.extend(o.notes.iter().cloned());
    global.push(
        "Merge this into the Dhcp4 object of kea-dhcp4.conf. option-def stays in Dhcp4; option-data may go in the phones' subnet4 entry instead.".to_owned(),
    );
    let mut data = vec![serde_json::json!({
        "name": OPTION_160_NAME,
        "code": 160,
        "space": "dhcp4",
        "data": o.boot_server,
    })];
    if !o.ip6000.is_empty() {
        data.push(serde_json::json!({
            "name": "tftp-server-name",
            "code": 66,
            "space": "dhcp4",
            "data": o.boot_server,
            "comment": "option 66, for the IP6000",
        }));
    }
    let doc = serde_json::json!({
        "Dhcp4": {
            "comment": global.join(" "),
            "option-def": [{
                "name": OPTION_160_NAME,
                "code": 160,
                "type": "string",
                "space": "dhcp4",
                "comment": "Polycom boot server (guide §7.2)",
            }],
            "option-data": data,
        }
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn dnsmasq(o: &BootOptions) -> String {
    let mut out = comments(
        o,
        "To give the options to the phones only, tag them (dhcp-range=set:phones,… or dhcp-mac=set:phones,00:04:f2:*:*:*) and write dhcp-option=tag:phones,160,… instead. The quotes make dnsmasq send the value as a string, not as an address.",
    );
    out.push_str(&format!("dhcp-option=160,\"{}\"\n", o.boot_server));
    if !o.ip6000.is_empty() {
        out.push_str(&format!(
            "# option 66, for the IP6000\ndhcp-option=option:tftp-server,\"{}\"\n",
            o.boot_server
        ));
    }
    out
}

fn windows(o: &BootOptions) -> String {
    let mut out = comments(
        o,
        "Run as an administrator on the Windows DHCP server (PowerShell module DhcpServer). These lines define option 160 as the guide does (§7.3 steps 1-4) and set server-wide values; to set them on the phones' scope only, as the guide does (§7.3 step 5), add -ScopeId <scope> to Set-DhcpServerv4OptionValue.",
    );
    out.push_str(&format!(
        "if (-not (Get-DhcpServerv4OptionDefinition -OptionId 160 -ErrorAction SilentlyContinue)) {{\n    Add-DhcpServerv4OptionDefinition -OptionId 160 -Name '{OPTION_160_WINDOWS_NAME}' -Type String -Description '{OPTION_160_WINDOWS_NAME}'\n}}\nSet-DhcpServerv4OptionValue -OptionId 160 -Value '{}'\n",
        o.boot_server
    ));
    if !o.ip6000.is_empty() {
        out.push_str(&format!(
            "# option 66 (Boot Server Host Name, predefined), for the IP6000\nSet-DhcpServerv4OptionValue -OptionId 66 -Value '{}'\n",
            o.boot_server
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::load;

    fn site(url: &str, models: &[&str]) -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let sites = dir.path().join("sites");
        std::fs::create_dir(&sites).expect("sites");
        let mut y = format!(
            "site: lab\ntarget:\n  url: {url}\nserver:\n  address: 10.1.2.3\ntime:\n  zone: pacific\nextensions:\n"
        );
        for i in 0..models.len() {
            y.push_str(&format!(
                "  - number: \"{}\"\n    password: {{env: X}}\n",
                201 + i
            ));
        }
        y.push_str("phones:\n");
        for (i, m) in models.iter().enumerate() {
            y.push_str(&format!(
                "  - mac: 0004f20000{i:02x}\n    model: {m}\n    extension: \"{}\"\n",
                201 + i
            ));
        }
        std::fs::write(sites.join("lab.yaml"), y).expect("site file");
        let catalog = load::load(&sites, &[]).expect("loads");
        let site = catalog.selected().next().expect("one site").clone();
        site
    }

    #[test]
    fn option_160_is_the_bare_address_as_in_the_guide() {
        let o = boot_options(&site("ftp://192.0.2.10/", &["IP650"])).expect("options");
        assert_eq!(o.boot_server, "192.0.2.10");
        assert!(o.ip6000.is_empty());
        let isc = render(&o, Syntax::Isc);
        assert!(isc.contains("option polycom-boot-server code 160 = string;\n"));
        assert!(isc.contains("option polycom-boot-server \"192.0.2.10\";\n"));
        assert!(!isc.contains("tftp-server-name"));
    }

    #[test]
    fn a_port_or_a_folder_makes_option_160_a_url() {
        let o =
            boot_options(&site("ftps://[2001:db8::1]:2121/prov/a/", &["IP650"])).expect("options");
        assert_eq!(o.boot_server, "ftp://[2001:db8::1]:2121/prov/a");
        assert!(o.notes.iter().any(|n| n.contains("plain FTP")));
        assert!(o.notes.iter().any(|n| n.contains("IPv6")));
        let o = boot_options(&site("ftp://pbx.example.com/prov", &["IP650"])).expect("options");
        assert_eq!(o.boot_server, "ftp://pbx.example.com/prov");
        assert!(o.notes.iter().any(|n| n.contains("DNS name")));
    }

    #[test]
    fn an_ip6000_adds_option_66_in_every_syntax() {
        let o = boot_options(&site("ftp://192.0.2.10/", &["IP650", "IP6000"])).expect("options");
        assert_eq!(o.ip6000, ["0004f2000001"]);
        assert!(render(&o, Syntax::Isc).contains("option tftp-server-name \"192.0.2.10\";"));
        assert!(
            render(&o, Syntax::Dnsmasq).contains("dhcp-option=option:tftp-server,\"192.0.2.10\"\n")
        );
        assert!(render(&o, Syntax::Windows).contains("-OptionId 66 -Value '192.0.2.10'"));
        let kea: serde_json::Value =
            serde_json::from_str(&render(&o, Syntax::Kea)).expect("Kea's output is JSON");
        assert_eq!(kea["Dhcp4"]["option-data"][1]["code"], 66);
        assert!(o
            .notes
            .iter()
            .any(|n| n.contains("Option 66") && n.contains("0004f2000001")));
    }

    #[test]
    fn a_host_no_phone_can_reach_is_a_warning() {
        for (url, what) in [
            ("ftp://127.0.0.1/", "a loopback address"),
            ("ftp://localhost:2121/", "a loopback name"),
            ("ftp://[::1]/", "a loopback address"),
            ("ftp://169.254.10.20/", "a link-local address"),
            ("ftp://[fe80::1]/", "a link-local address"),
            ("ftp://0.0.0.0/", "the unspecified address"),
        ] {
            let o = boot_options(&site(url, &["IP650"])).expect("options");
            assert_eq!(o.warnings.len(), 1, "{url}: {:?}", o.warnings);
            assert!(o.warnings[0].contains(what), "{url}: {:?}", o.warnings);
            assert!(o.warnings[0].contains("target.url's host"), "{url}");
            assert!(o.notes.contains(&o.warnings[0]), "{url}");
        }
        for url in [
            "ftp://192.0.2.10/",
            "ftp://ftp.example.com/",
            "ftp://[2001:db8::1]/",
        ] {
            let o = boot_options(&site(url, &["IP650"])).expect("options");
            assert!(o.warnings.is_empty(), "{url}: {:?}", o.warnings);
        }
    }

    #[test]
    fn a_dir_target_is_an_error() {
        let e = boot_options(&site("dir:out/x", &["IP650"]))
            .expect_err("dir: has no server")
            .to_string();
        assert!(e.contains("local folder"), "{e}");
    }

    #[test]
    fn a_host_or_path_that_could_break_out_of_the_option_string_is_refused() {
        let mut s = site("ftp://192.0.2.10/", &["IP650"]);
        for (host, path) in [
            ("h", "a\"b"),
            ("h", "a'b"),
            ("h", "a b"),
            ("h", "a,b"),
            ("h", "a@b"),
            ("h", "a;b"),
            ("h\"", ""),
            ("h;x", ""),
        ] {
            s.target.url = TargetUrl::Ftp {
                tls: false,
                host: host.to_owned(),
                port: 21,
                path: path.to_owned(),
            };
            assert!(boot_options(&s).is_err(), "{host} {path}");
        }
    }
}
