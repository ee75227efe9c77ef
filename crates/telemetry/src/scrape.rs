//! Reading figures back out of the Prometheus text format: what tests (and a quick look from
//! a shell) need, not a full parser.

/// One scrape of `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    samples: Vec<Sample>,
}

/// One sample line: `name{label="value",...} number`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Scrape {
    /// The samples of `text`; comments and lines that do not parse are skipped.
    pub fn parse(text: &str) -> Scrape {
        Scrape {
            samples: text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(sample)
                .collect(),
        }
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn find<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
    }

    /// The sum of the samples [`Scrape::find`] selects (0 when there are none).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels).map(|s| s.value).sum()
    }

    /// Whether any sample is named `name`.
    pub fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.name == name)
    }

    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }
}

fn sample(line: &str) -> Option<Sample> {
    let (head, value) = line.trim().rsplit_once(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    let (name, labels) = match head.split_once('{') {
        None => (head.to_string(), Vec::new()),
        Some((name, rest)) => (name.to_string(), labels(rest.strip_suffix('}')?)?),
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `a="x",b="y \"quoted\""` → pairs, escapes undone.
fn labels(mut s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    while !s.is_empty() {
        let (key, rest) = s.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break i,
                c => value.push(c),
            }
        };
        out.push((key.trim().to_string(), value));
        s = rest[end + 1..].trim_start_matches(',');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_with_and_without_labels() {
        let s = Scrape::parse(
            "# HELP x_total what\n# TYPE x_total counter\n\
             x_total{tool=\"pages\",action=\"get\"} 3\nx_total{tool=\"pages\",action=\"list\"} 2\n\
             up 1\nh_bucket{le=\"+Inf\",q=\"a\\\"b\"} 7\n",
        );
        assert_eq!(s.sum("x_total", &[("tool", "pages")]), 5.0);
        assert_eq!(s.sum("x_total", &[("action", "get")]), 3.0);
        assert_eq!(s.sum("up", &[]), 1.0);
        assert_eq!(s.sum("h_bucket", &[("q", "a\"b"), ("le", "+Inf")]), 7.0);
        assert_eq!(s.sum("missing", &[]), 0.0);
        assert!(s.has("up") && !s.has("down"));
    }
}
