//! Every construct of the shared storage-format corpus through a space: each corpus document
//! becomes a page, the space is exported, published back (no new version), published to an
//! empty space and exported again (the same Markdown).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::common::*;
use conflux_ops::Config;
use conflux_sync::{ExportOptions, NoProgress, PublishOptions, export, publish};
use serde_json::json;

/// The corpus, or `None` after saying why the test cannot run (a failure when CI=true).
fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/storage"
    ));
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "corpus missing at {} and CI=true: the corpus tests must run in CI",
        dir.display()
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED corpus round trip: corpus not found at {}",
        dir.display()
    );
    None
}

#[tokio::test]
async fn every_corpus_construct_round_trips_through_a_space() {
    let Some(dir) = corpus_dir() else { return };
    let mut docs: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("xml" | "html")))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    docs.sort();
    assert!(docs.len() > 40, "{} corpus documents", docs.len());

    let sim = start(demo_with_empty_space(31)).await;
    let ops = ops(&sim, Config::default()).await;
    let space = space_id(&ops, EMPTY).await;
    let root = create(
        &ops,
        &space,
        None,
        "Corpus",
        "<p>Every document of the corpus.</p>",
    )
    .await;
    for (title, body) in &docs {
        let args = json!({
            "spaceId": space, "parentId": root, "title": title,
            "body": body, "bodyFormat": "storage",
        });
        call(&ops, "pages", "create", args).await;
    }

    let folder = tempdir();
    let first = export(
        &ops,
        EMPTY,
        folder.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(first.nodes, docs.len() + 1);
    let copy = tempdir();
    copy_dir(folder.path(), copy.path());

    let before = versions(&ops, EMPTY).await;
    let back = publish(
        &ops,
        folder.path(),
        None,
        &PublishOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(back.versions_made, 0);
    assert_eq!(back.failed, 0);
    assert_eq!(versions(&ops, EMPTY).await, before);

    let elsewhere = publish(
        &ops,
        copy.path(),
        Some(EMPTY2),
        &PublishOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let errors: Vec<_> = elsewhere
        .pages
        .iter()
        .filter_map(|p| p.error.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(elsewhere.created, docs.len() + 1);
    let again = tempdir();
    export(
        &ops,
        EMPTY2,
        again.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let (a, b) = (markdown(folder.path()), markdown(again.path()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    // The converter's Markdown is a fixed point on the whole corpus: every file comes back
    // the same.
    let mut differ = Vec::new();
    for (path, text) in &a {
        if comparable_file(text) != comparable_file(&b[path]) {
            differ.push(path.clone());
        }
    }
    let detail = differ.first().map(|p| {
        let (x, y) = (comparable_file(&a[p]), comparable_file(&b[p]));
        x.lines()
            .zip(y.lines())
            .find(|(l, r)| l != r)
            .map(|(l, r)| format!("{l}\n{r}"))
            .unwrap_or_else(|| format!("{} vs {} lines", x.lines().count(), y.lines().count()))
    });
    assert!(differ.is_empty(), "{differ:#?}\n{detail:?}");
}
