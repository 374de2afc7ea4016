//! Image references in the normalized form BuildKit's image sources use.

/// Returns the full form of a reference: `alpine` becomes `docker.io/library/alpine:latest`.
/// A reference with a digest keeps it and gets no default tag.
pub fn normalize(reference: &str) -> String {
    let (name, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    };
    let first = name.split('/').next().unwrap_or(name);
    let has_domain =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = match (has_domain, name.contains('/')) {
        (true, _) => name.to_owned(),
        (false, true) => format!("docker.io/{name}"),
        (false, false) => format!("docker.io/library/{name}"),
    };
    let last = full.rsplit('/').next().unwrap_or(&full);
    if !last.contains(':') && digest.is_none() {
        full.push_str(":latest");
    }
    match digest {
        Some(digest) => format!("{full}@{digest}"),
        None => full,
    }
}

/// Returns the reference pinned to `digest`, unless it already names one.
pub fn pin(normalized: &str, digest: &str) -> String {
    if normalized.contains('@') || digest.is_empty() {
        normalized.to_owned()
    } else {
        format!("{normalized}@{digest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        assert_eq!(normalize("alpine"), "docker.io/library/alpine:latest");
        assert_eq!(
            normalize("condaforge/miniforge3"),
            "docker.io/condaforge/miniforge3:latest"
        );
        assert_eq!(
            normalize("localhost:5000/x/y:dev"),
            "localhost:5000/x/y:dev"
        );
        assert_eq!(normalize("localhost/x"), "localhost/x:latest");
        assert_eq!(
            normalize("gcr.io/distroless/base-debian12"),
            "gcr.io/distroless/base-debian12:latest"
        );
        assert_eq!(normalize("a@sha256:00"), "docker.io/library/a@sha256:00");
    }

    #[test]
    fn pins_once() {
        assert_eq!(
            pin("docker.io/library/a:1", "sha256:ab"),
            "docker.io/library/a:1@sha256:ab"
        );
        assert_eq!(
            pin("docker.io/library/a@sha256:00", "sha256:ab"),
            "docker.io/library/a@sha256:00"
        );
    }
}
