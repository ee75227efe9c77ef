//! Printing results for people (`text`) or scripts (`json`, one document on stdout).

use conflux_client::models::{Page, SearchPage, Space};
use serde::Serialize;

use crate::settings::Output;
use crate::stdout::{out, outln};

pub struct Printer {
    format: Output,
}

fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// Search excerpts mark hits with @@@hl@@@ ... @@@endhl@@@; a terminal shows them as *...*.
fn plain_excerpt(s: &str) -> String {
    s.replace("@@@hl@@@", "*")
        .replace("@@@endhl@@@", "*")
        .replace('\n', " ")
}

impl Printer {
    pub fn new(format: Output) -> Self {
        Printer { format }
    }

    /// An operation's result: its verbose text, or its JSON.
    pub fn op_output(&self, output: &conflux_ops::Output) -> anyhow::Result<()> {
        match self.format {
            Output::Text => out!("{}", output.verbose())?,
            Output::Json => json(&output.to_json())?,
        }
        Ok(())
    }

    pub fn message(&self, text: &str) -> anyhow::Result<()> {
        match self.format {
            Output::Text => outln!("{text}")?,
            Output::Json => json(&serde_json::json!({ "message": text }))?,
        }
        Ok(())
    }

    pub fn page(&self, page: &Page) -> anyhow::Result<()> {
        if self.format == Output::Json {
            return json(page);
        }
        outln!(
            "{}  (id {}, space {}, status {})",
            page.title,
            page.id,
            page.space_id,
            page.status
        )?;
        if let Some(v) = &page.version {
            outln!(
                "version {}{}",
                v.number,
                if v.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", v.message)
                }
            )?;
        }
        if let Some(body) = page.body.as_ref().and_then(|b| b.any()) {
            outln!(
                "--- body ({}, {} bytes) ---",
                body.representation,
                body.value.len()
            )?;
            outln!("{}", body.value)?;
        }
        Ok(())
    }

    pub fn pages(&self, pages: &[Page], next: Option<&str>) -> anyhow::Result<()> {
        if self.format == Output::Json {
            return json(&serde_json::json!({ "results": pages, "next_cursor": next }));
        }
        for p in pages {
            let v = p.version.as_ref().map(|v| v.number).unwrap_or(0);
            outln!("{:>10}  v{:<3} {:<9} {}", p.id, v, p.status, p.title)?;
        }
        outln!(
            "({} page(s){})",
            pages.len(),
            next.map(|c| format!("; more with --cursor {c}"))
                .unwrap_or_default()
        )?;
        Ok(())
    }

    pub fn written(&self, what: &str, page: &Page) -> anyhow::Result<()> {
        if self.format == Output::Json {
            return json(page);
        }
        let v = page.version.as_ref().map(|v| v.number).unwrap_or(1);
        outln!("{what} page {} \"{}\" (version {v})", page.id, page.title)?;
        Ok(())
    }

    pub fn spaces(&self, spaces: &[Space], next: Option<&str>) -> anyhow::Result<()> {
        if self.format == Output::Json {
            return json(&serde_json::json!({ "results": spaces, "next_cursor": next }));
        }
        for s in spaces {
            outln!("{:>8}  {:<8} {:<9} {}", s.id, s.key, s.space_type, s.name)?;
        }
        if let Some(c) = next {
            outln!("(more with --cursor {c})")?;
        }
        Ok(())
    }

    pub fn search(&self, page: &SearchPage) -> anyhow::Result<()> {
        if self.format == Output::Json {
            return json(page);
        }
        for r in &page.results {
            let (id, kind, space) = match &r.content {
                Some(c) => (
                    c.id.as_str(),
                    c.content_type.as_str(),
                    c.space.as_ref().map(|s| s.key.as_str()).unwrap_or(""),
                ),
                None => ("", r.entity_type.as_str(), ""),
            };
            outln!("{id:>10}  {kind:<10} {space:<6} {}", r.title)?;
            if !r.excerpt.trim().is_empty() {
                outln!("            {}", plain_excerpt(r.excerpt.trim()))?;
            }
        }
        let total = page
            .total_size
            .map(|t| format!(" of {t}"))
            .unwrap_or_default();
        outln!(
            "({} result(s){total}{})",
            page.results.len(),
            page.next_cursor
                .as_deref()
                .map(|c| format!("; more with --cursor {c}"))
                .unwrap_or_default()
        )?;
        Ok(())
    }
}
