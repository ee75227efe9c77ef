//! The demo site's blog posts and page templates, read from `data/demo/extras.txt` in order (no
//! seeded draw: they never change the rest of the site). Ids follow the fixture's largest.

use super::text::sections;
use crate::fixture::{BlogPostSpec, Fixture, TemplateSpec};

const SRC: &str = include_str!("../../data/demo/extras.txt");

/// Adds the blog posts (by the demo user and, alternately, the site's first other member) and
/// the templates to `fx`, skipping any whose space the site does not have.
pub(super) fn add(fx: &mut Fixture, demo_user: &str) {
    let mut next = fx
        .pages
        .iter()
        .map(|p| p.id.as_str())
        .chain(fx.folders.iter().map(|f| f.id.as_str()))
        .chain(fx.databases.iter().map(|d| d.id.as_str()))
        .chain(fx.comments.iter().map(|c| c.id.as_str()))
        .chain(
            fx.attachments
                .iter()
                .map(|a| a.id.trim_start_matches("att")),
        )
        .filter_map(|id| id.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let other = fx
        .users
        .iter()
        .find(|u| u.account_id != demo_user && !u.guest)
        .map_or(demo_user, |u| u.account_id.as_str())
        .to_string();
    let has_space = |k: &str| fx.spaces.iter().any(|s| s.key == k);
    let mut blogposts = Vec::new();
    let mut templates = Vec::new();
    for (kind, text) in sections(SRC) {
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next().unwrap_or_default().split(" | ").collect();
        let [space, title, third] = head[..] else {
            continue;
        };
        next += 1;
        match kind {
            "blog" if has_space(space) => blogposts.push(BlogPostSpec {
                id: next.to_string(),
                space: space.to_string(),
                title: title.to_string(),
                author: if blogposts.len() % 2 == 0 {
                    demo_user.to_string()
                } else {
                    other.clone()
                },
                body: lines.map(|l| format!("<p>{l}</p>")).collect(),
                labels: third.split(',').map(|l| l.trim().to_string()).collect(),
                created_at: None,
            }),
            "template" if space == "global" || has_space(space) => templates.push(TemplateSpec {
                id: next.to_string(),
                name: title.to_string(),
                description: third.to_string(),
                space: (space != "global").then(|| space.to_string()),
                body: lines.collect(),
                labels: Vec::new(),
            }),
            _ => {}
        }
    }
    fx.blogposts = blogposts;
    fx.templates = templates;
}
