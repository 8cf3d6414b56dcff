//! Polycom configuration files as the phones read them: XML in which every
//! attribute of every element is a parameter (`<reg reg.1.label="201"/>`).

/// Why bytes are not a configuration file a phone reads: by position
/// only, never quoting them (a file may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("not UTF-8 text (byte {at})")]
    NotUtf8 { at: usize },
    #[error("not well-formed XML (line {line}, column {column})")]
    NotWellFormed { line: u32, column: u32 },
    #[error("no APPLICATION element")]
    NoApplication,
    /// Over [`MAX_ATTRIBUTES`]: not parsed at all.
    #[error("more than {max} attributes, more than a configuration file holds")]
    TooManyAttributes { max: usize },
}

/// The bytes as text, without a byte order mark.
fn text(bytes: &[u8]) -> Result<&str, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::NotUtf8 {
        at: e.valid_up_to(),
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// The most attributes (namespace declarations included) a configuration
/// file may hold, all its elements together; a file with more is not read
/// (docs/targets.md, "Deadlines and limits"). The SIP 3.2.7 release files
/// hold 5,688 parameters between them. The XML parser checks each of an
/// element's attributes against those before it, in time that grows with
/// the square of their number: 80,000 in a 1 MiB file take seconds, the
/// cap a small fraction of one.
pub const MAX_ATTRIBUTES: usize = 8192;

/// The text parsed as XML; errors by position only. A file over
/// [`MAX_ATTRIBUTES`] is refused before it is parsed.
fn document(text: &str) -> Result<roxmltree::Document<'_>, XmlError> {
    if attribute_count(text, MAX_ATTRIBUTES) > MAX_ATTRIBUTES {
        return Err(XmlError::TooManyAttributes {
            max: MAX_ATTRIBUTES,
        });
    }
    roxmltree::Document::parse(text).map_err(|e| {
        let pos = e.pos();
        XmlError::NotWellFormed {
            line: pos.row,
            column: pos.col,
        }
    })
}

/// How many attributes the start tags of `text` hold, counted in one pass
/// and up to `stop + 1`: the `=` outside quoted values in each start tag,
/// comments, processing instructions, CDATA sections, declarations and end
/// tags skipped. Exact for a well-formed document (the parser refuses a
/// DTD, so every start tag is in the text as it is); what it counts in a
/// malformed one does not matter, as the parser refuses that one anyway.
fn attribute_count(text: &str, stop: usize) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut at = 0;
    while let Some(open) = text[at..].find('<').map(|i| at + i) {
        let rest = &text[open..];
        let skip_to = |end: &str| rest.find(end).map_or(text.len(), |i| open + i + end.len());
        if rest.starts_with("<!--") {
            at = skip_to("-->");
        } else if rest.starts_with("<![CDATA[") {
            at = skip_to("]]>");
        } else if rest.starts_with("<?") {
            at = skip_to("?>");
        } else if rest.starts_with("<!") || rest.starts_with("</") {
            at = skip_to(">");
        } else {
            // A start tag: up to the `>` outside a quoted value.
            let mut quote = None;
            at = text.len();
            for (i, &b) in bytes.iter().enumerate().skip(open + 1) {
                match (quote, b) {
                    (None, b'"' | b'\'') => quote = Some(b),
                    (None, b'=') => count += 1,
                    (None, b'>') => {
                        at = i + 1;
                        break;
                    }
                    (Some(q), b) if b == q => quote = None,
                    _ => {}
                }
            }
            if count > stop {
                break;
            }
        }
    }
    count
}

/// The parameters of a configuration file, in document order: every
/// attribute of every element, values unescaped. The XML declaration
/// (`version`, `encoding`, `standalone`) carries none. `Err` says why the
/// bytes are not such a file, by position only (never quoting them: a
/// file may hold a password).
pub fn parameters(bytes: &[u8]) -> Result<Vec<(String, String)>, XmlError> {
    let text = text(bytes)?;
    let doc = document(text)?;
    Ok(doc
        .descendants()
        .filter(roxmltree::Node::is_element)
        .flat_map(|element| {
            element
                .attributes()
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
        })
        .collect())
}

/// The parameters of a configuration file by name, as a phone takes them:
/// the first occurrence of a name wins, in a file as across CONFIG_FILES
/// ("the parameter found first in the list of files will be the one that is
/// effective", Polycom's administrator guide). A later occurrence is in
/// `repeated`, in document order.
pub fn parameter_map(bytes: &[u8]) -> Result<Parameters, XmlError> {
    let mut out = Parameters::default();
    for (name, value) in parameters(bytes)? {
        if out.values.contains_key(&name) {
            out.repeated.push(name);
        } else {
            out.order.push(name.clone());
            out.values.insert(name, value);
        }
    }
    Ok(out)
}

/// A file's parameters, each name once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parameters {
    /// Name → value of its first occurrence.
    pub values: std::collections::BTreeMap<String, String>,
    /// Names in the order they first appear.
    pub order: Vec<String>,
    /// Names that appear again after their first occurrence (ignored by a
    /// phone).
    pub repeated: Vec<String>,
}

/// What a phone's master file (`<mac>.cfg`) tells it to load: the
/// APPLICATION element's APP_FILE_PATH and CONFIG_FILES. The
/// APPLICATION_SPIP300/SPIP500 children are for those older models only
/// and are not read here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// The firmware image (`sip.ld`); `None` when the attribute is absent
    /// or empty.
    pub app_file_path: Option<String>,
    /// CONFIG_FILES, split at commas, trimmed, empty entries dropped.
    pub config_files: Vec<String>,
}

/// Read a master file's APPLICATION element. `Err` when the bytes are not
/// XML or hold no APPLICATION element (again by position only).
pub fn application(bytes: &[u8]) -> Result<Application, XmlError> {
    let text = text(bytes)?;
    let doc = document(text)?;
    let app = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "APPLICATION")
        .ok_or(XmlError::NoApplication)?;
    let app_file_path = app
        .attribute("APP_FILE_PATH")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let config_files = app
        .attribute("CONFIG_FILES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Application {
        app_file_path,
        config_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_occurrence_of_a_name_wins_as_on_the_phone() {
        let p = parameter_map(br#"<a x.y="1"><b x.y="2" z.w=""/></a>"#).expect("parses");
        assert_eq!(p.values["x.y"], "1");
        assert_eq!(p.values["z.w"], "");
        assert_eq!(p.order, ["x.y", "z.w"]);
        assert_eq!(p.repeated, ["x.y"]);
    }

    #[test]
    fn a_master_file_names_its_image_and_config_files() {
        let a = application(
            br#"<?xml version="1.0"?><APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES=" 201.cfg, altigen.cfg,,phone1.cfg ,sip.cfg"><APPLICATION_SPIP300 APP_FILE_PATH_SPIP300="sip_212.ld" CONFIG_FILES_SPIP300="phone1_212.cfg"/></APPLICATION>"#,
        )
        .expect("parses");
        assert_eq!(a.app_file_path.as_deref(), Some("sip.ld"));
        assert_eq!(
            a.config_files,
            ["201.cfg", "altigen.cfg", "phone1.cfg", "sip.cfg"]
        );
        assert!(application(b"<PHONE_CONFIG/>").is_err());
        let empty = application(b"<APPLICATION APP_FILE_PATH=\"\"/>").expect("parses");
        assert_eq!(empty.app_file_path, None);
        assert!(empty.config_files.is_empty());
    }

    fn names(params: &[(String, String)]) -> Vec<&str> {
        params.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn every_attribute_of_every_element_in_document_order() {
        let p = parameters(
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- a comment with x="1" -->
<phone1><reg reg.1.label="201" reg.1.auth.password="a&amp;b"/><msg msg.bypassInstantMessage="1"/></phone1>
"#,
        )
        .expect("parses");
        assert_eq!(
            p,
            vec![
                ("reg.1.label".to_owned(), "201".to_owned()),
                ("reg.1.auth.password".to_owned(), "a&b".to_owned()),
                ("msg.bypassInstantMessage".to_owned(), "1".to_owned()),
            ]
        );
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_read_like_any_file() {
        let p = parameters(
            b"\xef\xbb\xbf<?xml version=\"1.0\"?>\r\n<ALL\r\n  a.b=\"1\"\r\n  c.d=\"x\"/>\r\n",
        )
        .expect("parses");
        assert_eq!(names(&p), ["a.b", "c.d"]);
        assert_eq!(p[1].1, "x");
    }

    #[test]
    fn the_xml_declaration_alone_is_no_parameter_and_not_a_document() {
        assert_eq!(
            parameters(b"<?xml version=\"1.0\"?><PHONE_CONFIG/>").expect("parses"),
            vec![]
        );
        assert!(parameters(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").is_err());
    }

    fn one_element_with(attributes: usize) -> Vec<u8> {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<PHONE_CONFIG><ALL");
        for i in 0..attributes {
            xml.push_str(&format!(" a.{i}=\"1\""));
        }
        xml.push_str("/></PHONE_CONFIG>\n");
        xml.into_bytes()
    }

    #[test]
    fn a_file_over_the_attribute_cap_is_not_read_and_one_at_it_is() {
        let at_cap = parameters(&one_element_with(MAX_ATTRIBUTES)).expect("at the cap");
        assert_eq!(at_cap.len(), MAX_ATTRIBUTES);
        for over in [
            one_element_with(MAX_ATTRIBUTES + 1),
            one_element_with(80_000),
        ] {
            let e = parameters(&over).expect_err("over the cap");
            assert!(e.to_string().contains("more than 8192 attributes"), "{e}");
            let e = parameter_map(&over).expect_err("over the cap");
            assert!(e.to_string().contains("more than 8192 attributes"), "{e}");
        }
        let mut master = one_element_with(MAX_ATTRIBUTES);
        master.splice(
            0..0,
            b"<APPLICATION CONFIG_FILES=\"201.cfg\"/>".iter().copied(),
        );
        assert!(application(&master).is_err());
    }

    #[test]
    fn attributes_are_counted_in_start_tags_only() {
        let text = r#"<?xml version="1.0"?><!-- a="1" b="2" --><?pi c="3"?>
<a x="p=q>r" y='=' xmlns:z="urn:z"><![CDATA[<b d="4">]]>e=f<c/><c z:g = "5"/></a>"#;
        assert_eq!(attribute_count(text, usize::MAX), 4);
        assert_eq!(parameters(text.as_bytes()).expect("parses").len(), 3);
        assert_eq!(attribute_count(r#"<a b="1" c="2" d="3"/><!-- e="4""#, 1), 3);
    }

    #[test]
    fn non_xml_and_non_utf8_are_errors_that_quote_nothing() {
        let e = parameters(b"<x reg.1.auth.password=\"s&cret;\"/>")
            .expect_err("bad entity")
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        assert!(!e.contains("cret"), "{e}");
        let e = parameters(b"<x a=\"\xff\"/>")
            .expect_err("not UTF-8")
            .to_string();
        assert!(e.contains("UTF-8"), "{e}");
        assert!(parameters(b"polycom default\n").is_err());
        assert!(parameters(b"").is_err());
    }
}
