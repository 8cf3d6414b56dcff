//! "Did you mean": the known name nearest to one that is not known. One
//! rule for every place that suggests a name (a site file's field, a site,
//! a Polycom parameter), so they all suggest alike. A leaf that uses
//! nothing of polyops.

/// The candidate nearest to `wanted` by edit distance (case aside), or
/// `None` when none is close: at most a quarter of `wanted`'s length
/// apart (two edits for short names). The first of equally near
/// candidates wins.
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    let limit = limit(&wanted);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let d = edit_distance(&wanted, &candidate.to_ascii_lowercase(), limit + 1);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The most edits a suggestion may be away from `wanted`.
fn limit(wanted: &str) -> usize {
    (wanted.len() / 4).max(2)
}

/// Levenshtein distance, counted in bytes (names are ASCII), giving up
/// once every path exceeds `cap` (the result is then `cap`).
pub fn edit_distance(a: &str, b: &str, cap: usize) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) >= cap {
        return cap;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        row[0] = i + 1;
        let mut best = row[0];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            row[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
            best = best.min(row[j + 1]);
        }
        if best >= cap {
            return cap;
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()].min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_name_is_suggested_and_a_far_one_is_not() {
        let fields = ["url", "user", "password", "ca_file", "timeout_seconds"];
        assert_eq!(nearest("passwrod", fields), Some("password"));
        assert_eq!(nearest("PASSWORD", fields), Some("password"));
        assert_eq!(nearest("timeout", fields), None);
        assert_eq!(nearest("xyz", ["abc"]), None);
        assert_eq!(nearest("hq", ["hq1", "hq2"]), Some("hq1"));
        assert_eq!(nearest("anything", []), None);
    }

    #[test]
    fn the_distance_counts_edits_and_stops_at_its_cap() {
        assert_eq!(edit_distance("kitten", "sitting", 10), 3);
        assert_eq!(edit_distance("", "abc", 10), 3);
        assert_eq!(edit_distance("abcdef", "uvwxyz", 2), 2);
    }
}
