//! A phone's model from the logs it uploads to its boot server
//! (`<mac>-boot.log`, `<mac>-app.log`). Their lines are
//! `time|component|class|missed|text`; the phone names itself in the text
//! as "SoundPoint IP 650" / "SoundStation IP 7000", or by its platform
//! code, "SPIP650" or "SPIP_650" (as in its SIP User-Agent,
//! `PolycomSoundPointIP-SPIP_650-UA/3.2.7`), "SSIP7000" / "SSIP_7000".
//! Any line may: each is searched for those names.

use crate::site::file::Model;

/// Every supported model the log names, each once, in the order of
/// their first mention.
pub fn models_named(log: &[u8]) -> Vec<Model> {
    let text = String::from_utf8_lossy(log).to_ascii_uppercase();
    let mut found: Vec<(usize, Model)> = Vec::new();
    for model in Model::ALL {
        let number = model.number();
        let family = if number.len() == 4 {
            ["SOUNDSTATION IP ", "SOUNDSTATION IP", "SSIP", "SSIP_"]
        } else {
            ["SOUNDPOINT IP ", "SOUNDPOINT IP", "SPIP", "SPIP_"]
        };
        let first = family
            .iter()
            .filter_map(|prefix| first_mention(&text, &format!("{prefix}{number}")))
            .min();
        if let Some(at) = first {
            found.push((at, model));
        }
    }
    found.sort();
    found.into_iter().map(|(_, m)| m).collect()
}

/// Where `needle` first stands on its own: not followed by another digit
/// (`SPIP650` is not `SPIP6500`).
fn first_mention(text: &str, needle: &str) -> Option<usize> {
    text.match_indices(needle)
        .find(|(at, _)| {
            !text[at + needle.len()..]
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_digit())
        })
        .map(|(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_read_from_any_line_that_names_it() {
        let boot = b"0103121530|boot |2|00|Boot server: FTP 192.0.2.10\r\n\
                     0103121531|boot |1|00|Platform: SPIP650 rev A\r\n";
        assert_eq!(models_named(boot), [Model::IP650]);
        let app =
            b"0103121611|sip  |2|00|User-Agent: PolycomSoundStationIP-SSIP_7000-UA/3.2.7.0198\n";
        assert_eq!(models_named(app), [Model::IP7000]);
        let app = b"0000000012|so   |2|00|SoundPoint IP 331 application 3.2.7 started\n";
        assert_eq!(models_named(app), [Model::IP331]);
    }

    #[test]
    fn other_models_and_parameter_names_are_not_a_model() {
        assert!(models_named(b"SoundPoint IP 600 and key.IP_650.30.function.prim").is_empty());
        assert!(models_named(b"SPIP6500 SSIP70001").is_empty());
        assert!(models_named(b"\xff\xfe binary").is_empty());
        assert_eq!(
            models_named(b"SoundPoint IP 560 ... SPIP_321"),
            [Model::IP560, Model::IP321]
        );
    }
}
