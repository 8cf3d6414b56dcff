//! Polycom configuration files as the phones read them: XML in which every
//! attribute of every element is a parameter (`<reg reg.1.label="201"/>`).

/// The parameters of a configuration file, in document order: every
/// attribute of every element, values unescaped. The XML declaration
/// (`version`, `encoding`, `standalone`) carries none. `Err` says why the
/// bytes are not such a file, by position only (never quoting them: a
/// file may hold a password).
pub fn parameters(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (byte {})", e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let pos = e.pos();
        format!("not well-formed XML (line {}, column {})", pos.row, pos.col)
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn non_xml_and_non_utf8_are_errors_that_quote_nothing() {
        let e = parameters(b"<x reg.1.auth.password=\"s&cret;\"/>").expect_err("bad entity");
        assert!(e.contains("line 1"), "{e}");
        assert!(!e.contains("cret"), "{e}");
        let e = parameters(b"<x a=\"\xff\"/>").expect_err("not UTF-8");
        assert!(e.contains("UTF-8"), "{e}");
        assert!(parameters(b"polycom default\n").is_err());
        assert!(parameters(b"").is_err());
    }
}
