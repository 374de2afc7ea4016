//! "Did you mean" suggestions for misspelled keys.

/// Returns the known word closest to `word`, when it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_key() {
        let known = ["name", "channels", "dependencies", "variables"];
        assert_eq!(nearest("dependancies", &known), Some("dependencies"));
        assert_eq!(nearest("chanels", &known), Some("channels"));
        assert_eq!(nearest("nmae", &known), Some("name"));
        assert_eq!(nearest("build", &known), None);
    }
}
