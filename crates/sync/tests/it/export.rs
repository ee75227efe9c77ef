//! `export` against the demo site over loopback: the folder mirrors the tree, a second run
//! fetches only what changed (labels, attachments and moves included), hostile titles stay
//! inside the folder, an interrupted run resumes, and the space lists hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::*;
use base64::Engine as _;
use conflux_ops::{Config, OpErrorKind};
use conflux_sync::{Event, ExportOptions, NoProgress, Progress, State, SyncError, export};
use serde_json::json;

#[tokio::test]
async fn export_mirrors_the_tree_and_a_second_run_fetches_nothing() {
    let sim = start(demo_with_empty_space(3)).await;
    let ops = ops(&sim, Config::default()).await;
    let dir = tempdir();
    let first = export(
        &ops,
        "ENG",
        dir.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(first.nodes > 50, "{first:?}");
    assert_eq!(first.failed, 0);
    let state = State::load(dir.path()).unwrap();
    assert_eq!(state.space_key, "ENG");
    assert_eq!(state.nodes.len(), first.nodes);
    let md = markdown(dir.path());
    assert_eq!(md.len(), first.nodes, "one file per node");
    // Every current page of the space has its file, with its front matter.
    let pages = call(
        &ops,
        "pages",
        "list",
        json!({ "spaceId": "ENG", "limit": 250, "status": "current" }),
    )
    .await;
    let pages = pages["items"].as_array().unwrap();
    assert!(!pages.is_empty());
    for p in pages {
        let id = p["id"].as_str().unwrap();
        let (path, text) = file_of(dir.path(), id).unwrap_or_else(|| panic!("no file for {id}"));
        assert_eq!(state.nodes[id].path, path);
        let doc = conflux_sync::Document::parse(&text).unwrap();
        assert_eq!(doc.meta.title.as_deref(), p["title"].as_str());
        assert_eq!(doc.meta.space.as_deref(), Some("ENG"));
        assert_eq!(doc.meta.version, p["version"].as_u64());
        assert_eq!(doc.meta.parent.as_deref(), p["parentId"].as_str());
        assert!(doc.meta.last_modified.is_some() && doc.meta.labels.is_some());
    }
    // A page with children is a folder with an index file; databases and folders are shown.
    assert!(md.keys().any(|p| p.ends_with("/index.md")));
    assert!(md.values().any(|t| t.contains("\ntype: folder\n")));
    // Links between exported pages are relative file links that resolve to files.
    let mut relative = 0;
    for (path, text) in &md {
        for (dest, _) in text.match_indices("](").map(|(i, _)| (&text[i + 2..], 0)) {
            let dest: String = dest
                .chars()
                .take_while(|c| *c != ')' && *c != ' ')
                .collect();
            if dest.contains(".md") && !dest.contains(':') {
                let target = dest.split('#').next().unwrap();
                let base = std::path::Path::new(path).parent().unwrap();
                let decoded = percent_decode(target);
                let full = dir.path().join(base).join(&decoded);
                assert!(full.exists(), "{path}: {dest} -> {}", full.display());
                relative += 1;
            }
        }
    }
    assert!(relative > 10, "only {relative} relative links");
    // Attachments beside their page, byte for byte.
    let with_attachments: Vec<_> = state
        .nodes
        .values()
        .filter(|n| !n.attachments.is_empty())
        .collect();
    assert!(!with_attachments.is_empty());
    for n in &with_attachments {
        for a in n.attachments.values() {
            let bytes = std::fs::read(dir.path().join(&a.path)).unwrap();
            assert_eq!(bytes.len() as u64, a.size, "{}", a.path);
            assert!(a.path.starts_with(n.path.trim_end_matches(".md")));
        }
    }

    let before = files(dir.path());
    let requests = async || sim.stats().await["requests"].as_u64().unwrap();
    let start_count = requests().await;
    let second = export(
        &ops,
        "ENG",
        dir.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    // The labels and attachments come from one listing of the space, not two requests a page.
    let spent = requests().await - start_count;
    let pages = state.nodes.values().filter(|n| n.kind == "page").count() as u64;
    eprintln!("second run: {spent} requests for {pages} pages");
    assert_eq!(second.listed_per_page, 0, "{second:?}");
    assert!(spent < pages / 4, "{spent} requests for {pages} pages");
    assert_eq!(second.bodies_fetched, 0, "{second:?}");
    assert_eq!(second.attachments_downloaded, 0);
    assert_eq!(second.written, 0);
    assert_eq!(files(dir.path()), before);
    // No temporary file is left behind.
    assert!(
        !files(dir.path())
            .keys()
            .any(|p| p.contains(".conflux-tmp-"))
    );
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap();
            out.push(h);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn second_run_sees_labels_attachments_moves_and_renames() {
    let sim = start(demo_with_empty_space(4)).await;
    let ops = ops(&sim, Config::default()).await;
    let dir = tempdir();
    let opts = ExportOptions::default();
    export(&ops, "ENG", dir.path(), &opts, &NoProgress)
        .await
        .unwrap();
    let state = State::load(dir.path()).unwrap();
    // Five leaf pages, each changed one way.
    let leaves: Vec<String> = state
        .nodes
        .iter()
        .filter(|(_, n)| {
            n.kind == "page" && !n.path.ends_with("index.md") && n.attachments.is_empty()
        })
        .map(|(id, _)| id.clone())
        .take(5)
        .collect();
    let [edited, labelled, attached, moved, renamed] = <[String; 5]>::try_from(leaves).unwrap();
    call(
        &ops,
        "pages",
        "update",
        json!({ "id": edited, "body": "Edited *here*." }),
    )
    .await;
    call(
        &ops,
        "labels",
        "addToPage",
        json!({ "id": labelled, "labels": ["fresh-label"] }),
    )
    .await;
    let data = base64::engine::general_purpose::STANDARD.encode(b"new file bytes");
    call(
        &ops,
        "attachments",
        "upload",
        json!({ "id": attached, "fileName": "notes.txt", "data": data, "mediaType": "text/plain" }),
    )
    .await;
    // A file deleted from a page that did not change otherwise.
    let (stripped, gone) = state
        .nodes
        .iter()
        .find_map(|(id, n)| {
            let (att, a) = n.attachments.iter().next()?;
            Some((id.clone(), (att.clone(), a.path.clone())))
        })
        .unwrap();
    call(&ops, "attachments", "delete", json!({ "id": gone.0 })).await;
    // Under another page that has no children yet: it becomes a folder with an index file.
    let target = state
        .nodes
        .iter()
        .find(|(id, n)| {
            n.kind == "page"
                && !n.path.ends_with("index.md")
                && ![&edited, &labelled, &attached, &moved, &renamed].contains(id)
        })
        .map(|(id, _)| id.clone())
        .unwrap();
    call(
        &ops,
        "pages",
        "move",
        json!({ "id": moved, "targetId": target, "position": "append" }),
    )
    .await;
    call(
        &ops,
        "pages",
        "update",
        json!({ "id": renamed, "title": "A brand new title" }),
    )
    .await;

    let old_moved = state.nodes[&moved].path.clone();
    let old_renamed = state.nodes[&renamed].path.clone();
    let old_target = state.nodes[&target].path.clone();
    let second = export(&ops, "ENG", dir.path(), &opts, &NoProgress)
        .await
        .unwrap();
    // The body is fetched for the edit and the rename (both new versions), for nothing else.
    assert!(
        second.bodies_fetched <= 3 && second.bodies_fetched >= 2,
        "{second:?}"
    );
    assert_eq!(second.attachments_downloaded, 1);
    // The labelled page and the page with a new file came from the space's listing; the page
    // that lost a file was looked at on its own, which the changed pages were too.
    assert!(second.listed_per_page <= 5, "{second:?}");
    let state2 = State::load(dir.path()).unwrap();
    assert!(!state2.nodes[&stripped].attachments.contains_key(&gone.0));
    assert!(
        !dir.path().join(&gone.1).exists(),
        "deleted file left behind"
    );
    let text = |id: &str| std::fs::read_to_string(dir.path().join(&state2.nodes[id].path)).unwrap();
    assert!(text(&edited).contains("Edited *here*."));
    assert!(text(&labelled).contains("- fresh-label\n"));
    let att = state2.nodes[&attached]
        .attachments
        .values()
        .find(|a| a.name == "notes.txt")
        .unwrap();
    assert_eq!(
        std::fs::read(dir.path().join(&att.path)).unwrap(),
        b"new file bytes"
    );
    assert_ne!(state2.nodes[&moved].path, old_moved);
    assert!(
        !dir.path().join(&old_moved).exists(),
        "old file of the moved page left behind"
    );
    assert!(state2.nodes[&target].path.ends_with("/index.md"));
    assert!(!dir.path().join(&old_target).exists());
    assert!(
        state2.nodes[&moved]
            .path
            .starts_with(state2.nodes[&target].path.trim_end_matches("index.md"))
    );
    assert!(
        state2.nodes[&renamed]
            .path
            .ends_with("A brand new title.md")
    );
    assert!(!dir.path().join(&old_renamed).exists());
    assert_eq!(markdown(dir.path()).len(), state2.nodes.len());
}

#[tokio::test]
async fn hostile_titles_stay_inside_the_folder() {
    let sim = start(demo_with_empty_space(5)).await;
    let ops = ops(&sim, Config::default()).await;
    let space = space_id(&ops, EMPTY).await;
    let root = create(&ops, &space, None, "Root", "root").await;
    let long = "x".repeat(250);
    let titles = [
        "../../etc/passwd",
        "..",
        "CON",
        "aux.txt",
        "nul",
        "a:b*c?d\"e<f>g|h",
        "back\\slash",
        "Readme",
        "README",
        "trailing dot.",
        "index",
        long.as_str(),
        "tab\tand\u{7}bell",
    ];
    for t in titles {
        create(&ops, &space, Some(&root), t, "x").await;
    }
    let outer = tempdir();
    let dir = outer.path().join("inside");
    export(&ops, EMPTY, &dir, &ExportOptions::default(), &NoProgress)
        .await
        .unwrap();
    // Nothing was written beside the folder.
    let around: Vec<_> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(around, [std::ffi::OsString::from("inside")]);
    let md = markdown(&dir);
    assert_eq!(md.len(), titles.len() + 1);
    let mut lower = std::collections::HashSet::new();
    for path in md.keys() {
        assert!(lower.insert(path.to_lowercase()), "case collision: {path}");
        for part in path.split('/') {
            assert!(part.len() <= 140, "{part}");
            assert!(
                !part.starts_with('.') && !part.ends_with('.') && !part.ends_with(' '),
                "{part}"
            );
            assert!(
                !part
                    .chars()
                    .any(|c| c.is_control() || ":*?\"<>|\\".contains(c)),
                "{part:?}"
            );
            let stem = part.split('.').next().unwrap().to_ascii_uppercase();
            assert!(
                !["CON", "AUX", "NUL", "PRN"].contains(&stem.as_str()),
                "{part}"
            );
        }
    }
    assert!(md.contains_key("Root/index.md"));
    // Each title is still the page's, in its front matter.
    for t in titles {
        assert!(
            md.values().any(|text| conflux_sync::Document::parse(text)
                .unwrap()
                .meta
                .title
                .as_deref()
                == Some(t)),
            "{t:?}"
        );
    }
}

/// Stops the run (by failing the progress callback's owner) after `after` pages.
struct CountThenStop {
    seen: AtomicUsize,
    after: usize,
    stop: tokio::sync::Notify,
}

impl Progress for CountThenStop {
    fn event(&self, e: &Event) {
        if matches!(e, Event::Page { .. })
            && self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.after
        {
            self.stop.notify_one();
        }
    }
}

#[tokio::test]
async fn an_interrupted_export_resumes_where_it_stopped() {
    let sim = start(demo_with_empty_space(6)).await;
    let ops = ops(&sim, Config::default()).await;
    let dir = tempdir();
    let progress = Arc::new(CountThenStop {
        seen: AtomicUsize::new(0),
        after: 20,
        stop: tokio::sync::Notify::new(),
    });
    let run = {
        let (ops, dir, progress) = (ops.clone(), dir.path().to_path_buf(), progress.clone());
        tokio::spawn(async move {
            let opts = ExportOptions {
                concurrency: 2,
                full: false,
            };
            export(&ops, "ENG", &dir, &opts, &*progress).await
        })
    };
    progress.stop.notified().await;
    run.abort();
    let _ = run.await;
    let recorded = State::load(dir.path()).unwrap();
    assert!(
        (20..40).contains(&recorded.nodes.len()),
        "{} nodes recorded",
        recorded.nodes.len()
    );
    // Every file is written whole: a write that was under way when the run stopped finishes
    // (it runs off the runtime's threads) and leaves no temporary file behind.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while files(dir.path())
        .keys()
        .any(|p| p.contains(".conflux-tmp-"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "a temporary file was left behind"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pages_done = recorded.nodes.values().filter(|n| n.kind == "page").count();
    let rest = export(
        &ops,
        "ENG",
        dir.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    // Only what the first run had not finished is fetched.
    let pages_total = State::load(dir.path())
        .unwrap()
        .nodes
        .values()
        .filter(|n| n.kind == "page")
        .count();
    assert_eq!(rest.bodies_fetched, pages_total - pages_done, "{rest:?}");
    let fresh = tempdir();
    export(
        &ops,
        "ENG",
        fresh.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(
        files(dir.path()),
        files(fresh.path()),
        "the resumed folder equals a fresh export"
    );
}

#[tokio::test]
async fn the_space_lists_hold_and_nothing_is_written() {
    let sim = start(demo_with_empty_space(7)).await;
    let ops = ops(
        &sim,
        Config {
            deny_spaces: vec!["ENG".into()],
            ..Config::default()
        },
    )
    .await;
    let dir = tempdir();
    let target = dir.path().join("out");
    let err = export(&ops, "ENG", &target, &ExportOptions::default(), &NoProgress)
        .await
        .unwrap_err();
    match err {
        SyncError::Op(e) => assert_eq!(e.kind, OpErrorKind::Policy),
        other => panic!("{other:?}"),
    }
    assert!(!target.exists());
}
