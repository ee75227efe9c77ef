//! `publish` against the demo site over loopback: round trips make no new version and give
//! the same Markdown, local edits are published (two passes for links to new pages, labels,
//! attachments), Confluence's edits are not overwritten unless forced, the guardrails hold,
//! mark's and md2conf's headers are read, nothing is deleted unless pruning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use crate::common::*;
use conflux_client::PageRequest;
use conflux_ops::{Config, OpErrorKind};
use conflux_sync::{
    Change, ExportOptions, NoProgress, PublishOptions, State, SyncError, export, publish,
};
use serde_json::json;

fn opts() -> PublishOptions {
    PublishOptions::default()
}

#[tokio::test]
async fn round_trips_make_no_version_and_the_same_markdown() {
    let sim = start(demo_with_empty_space(21)).await;
    let ops = ops(&sim, Config::default()).await;
    let dir = tempdir();
    export(
        &ops,
        "ENG",
        dir.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let copy = tempdir();
    copy_dir(dir.path(), copy.path());
    let one_by_one = tempdir();
    copy_dir(dir.path(), one_by_one.path());

    // Export, publish back: nothing changes in Confluence, no file changes here.
    let before = versions(&ops, "ENG").await;
    let files_before = files(dir.path());
    let back = publish(&ops, dir.path(), None, &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(back.versions_made, 0, "{:#?}", changed(&back));
    assert_eq!(
        (back.created, back.updated, back.failed, back.conflicts),
        (0, 0, 0, 0)
    );
    assert_eq!(back.attachments_uploaded, 0);
    assert_eq!(versions(&ops, "ENG").await, before);
    assert_eq!(files(dir.path()), files_before);

    // Export, publish to an empty space, export again: the same Markdown but for ids,
    // versions, dates and authors.
    let into_empty = publish(&ops, copy.path(), Some(EMPTY), &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(into_empty.failed, 0, "{:#?}", failures(&into_empty));
    let pages = before.len();
    assert_eq!(
        into_empty.created,
        markdown(copy.path()).len() - skipped(&into_empty)
    );
    assert!(into_empty.created >= pages);
    assert!(into_empty.attachments_uploaded > 0);
    // Files are published eight at a time, yet every parent's children are in the order a
    // publish of one file at a time gives them.
    let sequential = publish(
        &ops,
        one_by_one.path(),
        Some(EMPTY2),
        &PublishOptions {
            concurrency: 1,
            ..opts()
        },
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(sequential.created, into_empty.created);
    let ids = |s: &conflux_sync::PublishSummary| -> BTreeMap<String, String> {
        s.pages
            .iter()
            .filter(|p| p.skipped.is_none() && p.changes.contains(&Change::Create))
            .filter_map(|p| Some((p.path.clone(), p.id.clone()?)))
            .collect()
    };
    let (parallel_ids, sequential_ids) = (ids(&into_empty), ids(&sequential));
    let mut parents_compared = 0;
    for (path, id) in &parallel_ids {
        let children = async |id: &str| -> Vec<String> {
            ops.client()
                .content()
                .children(id.to_string().into(), &PageRequest::limit(250))
                .await
                .unwrap()
                .results
                .into_iter()
                .map(|c| c.title)
                .collect()
        };
        let (p, q) = (children(id).await, children(&sequential_ids[path]).await);
        assert_eq!(p, q, "children of {path}");
        parents_compared += usize::from(p.len() > 1);
    }
    assert!(parents_compared > 3, "{parents_compared}");
    let again = tempdir();
    export(
        &ops,
        EMPTY,
        again.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let (a, b) = (markdown(dir.path()), markdown(again.path()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let differ: Vec<String> = a
        .iter()
        .filter(|(path, text)| comparable_file(text) != comparable_file(&b[*path]))
        .map(|(path, _)| path.clone())
        .collect();
    let first_difference = differ.first().map(|p| {
        let (x, y) = (comparable_file(&a[p]), comparable_file(&b[p]));
        x.lines()
            .zip(y.lines())
            .find(|(l, r)| l != r)
            .map(|(l, r)| format!("{l}\n{r}"))
            .unwrap_or_default()
    });
    assert!(
        differ.is_empty(),
        "{} files differ: {differ:#?}\n{first_difference:?}",
        differ.len()
    );
    // Attachments came along, byte for byte.
    let (fa, fb) = (files(dir.path()), files(again.path()));
    for (path, bytes) in fa.iter().filter(|(p, _)| p.contains(".attachments/")) {
        assert_eq!(Some(bytes), fb.get(path), "{path}");
    }
}

fn changed(s: &conflux_sync::PublishSummary) -> Vec<(String, Vec<Change>)> {
    s.pages
        .iter()
        .filter(|p| !p.changes.is_empty())
        .map(|p| (p.path.clone(), p.changes.clone()))
        .collect()
}

fn failures(s: &conflux_sync::PublishSummary) -> Vec<(String, String)> {
    s.pages
        .iter()
        .filter_map(|p| p.error.clone().map(|e| (p.path.clone(), e)))
        .collect()
}

fn skipped(s: &conflux_sync::PublishSummary) -> usize {
    s.pages.iter().filter(|p| p.skipped.is_some()).count()
}

#[tokio::test]
async fn local_edits_are_published_in_two_passes() {
    let sim = start(demo_with_empty_space(22)).await;
    let ops = ops(&sim, Config::default()).await;
    let space = space_id(&ops, EMPTY).await;
    let root = create(&ops, &space, None, "Handbook", "<p>Start here.</p>").await;
    let leaf = create(&ops, &space, Some(&root), "Setup", "<p>Old text.</p>").await;
    call(
        &ops,
        "labels",
        "addToPage",
        json!({ "id": leaf, "labels": ["old", "keep"] }),
    )
    .await;
    let dir = tempdir();
    export(
        &ops,
        EMPTY,
        dir.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let setup = dir.path().join("Handbook/Setup.md");
    let text = std::fs::read_to_string(&setup).unwrap();
    // New body, labels changed, an image beside the page, a link to a page that does not
    // exist yet (its file sorts after this one).
    let text = text
        .replace("Old text.", "New text, see [the zebra](Zebra/index.md#intro) and ![d](Setup.attachments/diagram.png).")
        .replace("- old\n", "- fresh\n");
    std::fs::write(&setup, text).unwrap();
    std::fs::create_dir_all(dir.path().join("Handbook/Setup.attachments")).unwrap();
    std::fs::write(
        dir.path().join("Handbook/Setup.attachments/diagram.png"),
        b"\x89PNG fake",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("Handbook/Zebra")).unwrap();
    std::fs::write(
        dir.path().join("Handbook/Zebra/index.md"),
        "---\ntitle: Zebra\nlabels: [stripes]\n---\n\n## Intro\n\nBack to [setup](../Setup.md).\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Handbook/Zebra/Foal.md"),
        "# Foal\n\nA child page.\n",
    )
    .unwrap();

    // A dry run says what would change and changes nothing.
    let before = versions(&ops, EMPTY).await;
    let dry = publish(
        &ops,
        dir.path(),
        None,
        &PublishOptions {
            dry_run: true,
            ..opts()
        },
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(versions(&ops, EMPTY).await, before);
    let plan = changed(&dry);
    let setup_plan = &plan
        .iter()
        .find(|(p, _)| p == "Handbook/Setup.md")
        .unwrap()
        .1;
    assert!(setup_plan.contains(&Change::Body), "{setup_plan:?}");
    assert!(setup_plan.contains(&Change::LabelsAdded {
        labels: vec!["fresh".into()]
    }));
    assert!(setup_plan.contains(&Change::LabelsRemoved {
        labels: vec!["old".into()]
    }));
    assert!(setup_plan.contains(&Change::Attachment {
        name: "diagram.png".into(),
        new: true
    }));
    assert!(
        plan.iter()
            .any(|(p, c)| p == "Handbook/Zebra/index.md" && c.contains(&Change::Create))
    );
    assert!(
        plan.iter()
            .any(|(p, c)| p == "Handbook/Zebra/Foal.md" && c.contains(&Change::Create))
    );
    assert_eq!(plan.len(), 3, "{plan:#?}");

    let done = publish(&ops, dir.path(), None, &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (done.created, done.updated, done.failed),
        (2, 1, 0),
        "{:#?}",
        failures(&done)
    );
    assert_eq!(done.versions_made, 3);
    let body = call(
        &ops,
        "pages",
        "getBody",
        json!({ "id": leaf, "bodyFormat": "storage" }),
    )
    .await;
    let storage = body["body"]["value"].as_str().unwrap();
    assert!(storage.contains("New text"), "{storage}");
    assert!(storage.contains("ri:content-title=\"Zebra\""), "{storage}");
    assert!(storage.contains("ri:filename=\"diagram.png\""), "{storage}");
    let labels = call(&ops, "labels", "getForPage", json!({ "id": leaf })).await;
    let mut names: Vec<&str> = labels["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["fresh", "keep"]);
    let atts = call(&ops, "attachments", "listForPage", json!({ "id": leaf })).await;
    assert_eq!(atts["items"][0]["title"], "diagram.png");
    // The new pages sit where their files are, and the files now carry their ids.
    let state = State::load(dir.path()).unwrap();
    let (zebra, _) = state.by_path("Handbook/Zebra/index.md").unwrap();
    let (foal, foal_node) = state.by_path("Handbook/Zebra/Foal.md").unwrap();
    assert_eq!(foal_node.parent.as_ref(), Some(zebra));
    let zebra_page = call(&ops, "pages", "get", json!({ "id": zebra })).await;
    assert_eq!(zebra_page["page"]["parentId"].as_str(), Some(root.as_str()));
    let foal_text = std::fs::read_to_string(dir.path().join("Handbook/Zebra/Foal.md")).unwrap();
    assert!(
        foal_text.starts_with("# Foal"),
        "a file without front matter keeps its form"
    );
    let zebra_text = std::fs::read_to_string(dir.path().join("Handbook/Zebra/index.md")).unwrap();
    assert!(
        zebra_text.contains(&format!("id: '{zebra}'")),
        "{zebra_text}"
    );
    assert!(!foal.is_empty());

    // Published again: nothing left to do.
    let after = versions(&ops, EMPTY).await;
    let again = publish(&ops, dir.path(), None, &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.versions_made, 0, "{:#?}", changed(&again));
    assert_eq!(again.attachments_uploaded, 0);
    assert_eq!(versions(&ops, EMPTY).await, after);

    // A changed image is uploaded as a new version of the same attachment.
    std::fs::write(
        dir.path().join("Handbook/Setup.attachments/diagram.png"),
        b"\x89PNG other",
    )
    .unwrap();
    let image = publish(&ops, dir.path(), None, &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(image.attachments_uploaded, 1);
    assert_eq!(image.versions_made, 0);
    let atts = call(&ops, "attachments", "listForPage", json!({ "id": leaf })).await;
    assert_eq!(atts["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn confluence_edits_are_kept_unless_forced() {
    let sim = start(demo_with_empty_space(23)).await;
    let ops = ops(&sim, Config::default()).await;
    let space = space_id(&ops, EMPTY).await;
    let a = create(&ops, &space, None, "Alpha", "<p>alpha one</p>").await;
    let b = create(&ops, &space, None, "Beta", "<p>beta one</p>").await;
    let dir = tempdir();
    export(
        &ops,
        EMPTY,
        dir.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    // Alpha: edited in both places. Beta: edited in Confluence only.
    call(
        &ops,
        "pages",
        "update",
        json!({ "id": a, "body": "alpha from confluence" }),
    )
    .await;
    call(
        &ops,
        "pages",
        "update",
        json!({ "id": b, "body": "beta from confluence" }),
    )
    .await;
    let alpha = dir.path().join("Alpha.md");
    let text = std::fs::read_to_string(&alpha)
        .unwrap()
        .replace("alpha one", "alpha from the folder");
    std::fs::write(&alpha, text).unwrap();

    let r = publish(&ops, dir.path(), None, &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(r.conflicts, 1);
    assert_eq!(r.versions_made, 0);
    let conflict = r
        .pages
        .iter()
        .find(|p| p.path == "Alpha.md")
        .unwrap()
        .conflict
        .clone()
        .unwrap();
    assert_eq!(
        (conflict.local_base_version, conflict.remote_version),
        (Some(1), 2)
    );
    assert!(
        conflict.diff.contains("-alpha from confluence"),
        "{}",
        conflict.diff
    );
    assert!(
        conflict.diff.contains("+alpha from the folder"),
        "{}",
        conflict.diff
    );
    assert!(conflict.remote_author.is_some() && conflict.remote_date.is_some());
    let beta = r.pages.iter().find(|p| p.path == "Beta.md").unwrap();
    assert!(
        beta.skipped
            .as_deref()
            .unwrap()
            .contains("changed in Confluence")
    );
    let body = |id: String| {
        let ops = ops.clone();
        async move {
            call(
                &ops,
                "pages",
                "getBody",
                json!({ "id": id, "bodyFormat": "storage" }),
            )
            .await["body"]["value"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert!(body(a.clone()).await.contains("alpha from confluence"));
    assert!(body(b.clone()).await.contains("beta from confluence"));

    let forced = publish(
        &ops,
        dir.path(),
        None,
        &PublishOptions {
            force: true,
            ..opts()
        },
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(forced.conflicts, 0);
    assert!(body(a).await.contains("alpha from the folder"));
    // Beta's file was not edited here: even forced, Confluence's newer text stays.
    assert!(body(b).await.contains("beta from confluence"));
}

#[tokio::test]
async fn guardrails_hold_for_every_write() {
    let sim = start(demo_with_empty_space(24)).await;
    let writer = ops(&sim, Config::default()).await;
    let space = space_id(&writer, EMPTY).await;
    create(&writer, &space, None, "Only", "<p>one</p>").await;
    let dir = tempdir();
    export(
        &writer,
        EMPTY,
        dir.path(),
        &ExportOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let file = dir.path().join("Only.md");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("one", "two");
    std::fs::write(&file, text).unwrap();
    std::fs::write(dir.path().join("New.md"), "# New\n\nfresh\n").unwrap();
    let before = versions(&writer, EMPTY).await;
    for config in [
        Config {
            read_only: true,
            ..Config::default()
        },
        Config {
            read_only_spaces: vec![EMPTY.into()],
            ..Config::default()
        },
        Config {
            deny_spaces: vec![EMPTY.into()],
            ..Config::default()
        },
    ] {
        let guarded = ops(&sim, config.clone()).await;
        let err = publish(&guarded, dir.path(), None, &opts(), &NoProgress)
            .await
            .unwrap_err();
        match err {
            SyncError::Op(e) => assert_eq!(e.kind, OpErrorKind::Policy, "{config:?}: {e:?}"),
            other => panic!("{config:?}: {other:?}"),
        }
        assert_eq!(versions(&writer, EMPTY).await, before, "{config:?}");
    }
}

#[tokio::test]
async fn mark_and_md2conf_files_publish_unchanged() {
    let sim = start(demo_with_empty_space(25)).await;
    let ops = ops(&sim, Config::default()).await;
    let space = space_id(&ops, EMPTY).await;
    let guides = create(&ops, &space, None, "Guides", "<p>guides</p>").await;
    let existing = create(&ops, &space, None, "Existing", "<p>before</p>").await;
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("img")).unwrap();
    std::fs::write(dir.path().join("img/logo.png"), b"logo bytes").unwrap();
    let mark = "<!-- Space: EMPTY -->\n<!-- Parent: Guides -->\n<!-- Parent: Setup -->\n<!-- Title: Install guide -->\n\
                <!-- Label: how-to -->\n<!-- Label: setup -->\n<!-- Attachment: img/logo.png -->\n\n\
                Install it.\n";
    std::fs::write(dir.path().join("install.md"), mark).unwrap();
    let md2conf = format!(
        "<!-- confluence-page-id: {existing} -->\n<!-- confluence-space-key: EMPTY -->\n\n# Existing\n\nafter\n"
    );
    std::fs::write(dir.path().join("existing.md"), &md2conf).unwrap();
    let r = publish(&ops, dir.path(), Some(EMPTY), &opts(), &NoProgress)
        .await
        .unwrap();
    // The missing parent `Setup` is made under `Guides`, as mark does.
    assert_eq!(
        (r.created, r.updated, r.failed),
        (2, 1, 0),
        "{:#?}",
        failures(&r)
    );
    let state = State::load(dir.path()).unwrap();
    let (install, node) = state.by_path("install.md").unwrap();
    let setup = node.parent.clone().unwrap();
    let setup_page = call(&ops, "pages", "get", json!({ "id": setup })).await;
    assert_eq!(setup_page["page"]["title"], "Setup");
    assert_eq!(
        setup_page["page"]["parentId"].as_str(),
        Some(guides.as_str())
    );
    let page = call(&ops, "pages", "get", json!({ "id": install })).await;
    assert_eq!(page["page"]["title"], "Install guide");
    let labels = call(&ops, "labels", "getForPage", json!({ "id": install })).await;
    assert_eq!(labels["items"].as_array().unwrap().len(), 2);
    let atts = call(&ops, "attachments", "listForPage", json!({ "id": install })).await;
    assert_eq!(atts["items"][0]["title"], "logo.png");
    let body = call(
        &ops,
        "pages",
        "getBody",
        json!({ "id": existing, "bodyFormat": "storage" }),
    )
    .await;
    assert!(body["body"]["value"].as_str().unwrap().contains("after"));
    // Their headers are theirs: the files are left as written.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("install.md")).unwrap(),
        mark
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("existing.md")).unwrap(),
        md2conf
    );
    let again = publish(&ops, dir.path(), Some(EMPTY), &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.versions_made, 0, "{:#?}", changed(&again));
}

#[tokio::test]
async fn nothing_is_deleted_unless_pruning_and_nothing_outside_is_uploaded() {
    let sim = start(demo_with_empty_space(26)).await;
    let ops = ops(&sim, Config::default()).await;
    let space = space_id(&ops, EMPTY).await;
    let keep = create(&ops, &space, None, "Keep", "<p>k</p>").await;
    let gone = create(&ops, &space, None, "Gone", "<p>g</p>").await;
    let outer = tempdir();
    let dir = outer.path().join("docs");
    export(&ops, EMPTY, &dir, &ExportOptions::default(), &NoProgress)
        .await
        .unwrap();
    std::fs::remove_file(dir.join("Gone.md")).unwrap();
    // A secret beside the folder, named by a link and reachable through a symbolic link.
    std::fs::write(outer.path().join("secret.txt"), b"do not upload").unwrap();
    let keep_file = dir.join("Keep.md");
    let text = std::fs::read_to_string(&keep_file).unwrap()
        + "\n[s](../secret.txt) [t](Keep.attachments/link.txt)\n";
    std::fs::write(&keep_file, text).unwrap();
    std::fs::create_dir_all(dir.join("Keep.attachments")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outer.path().join("secret.txt"),
        dir.join("Keep.attachments/link.txt"),
    )
    .unwrap();

    let r = publish(&ops, &dir, None, &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(r.deleted, 0);
    assert!(versions(&ops, EMPTY).await.contains_key(&gone));
    let atts = call(&ops, "attachments", "listForPage", json!({ "id": keep })).await;
    assert!(atts["items"].as_array().unwrap().is_empty(), "{atts}");
    #[cfg(unix)]
    assert!(
        r.failed == 1
            && r.pages
                .iter()
                .any(|p| p.error.as_deref().is_some_and(|e| e.contains("outside")))
    );

    std::fs::remove_file(dir.join("Keep.attachments/link.txt")).ok();
    let text = std::fs::read_to_string(&keep_file)
        .unwrap()
        .replace(" [t](Keep.attachments/link.txt)", "");
    std::fs::write(&keep_file, text).unwrap();
    let pruned = publish(
        &ops,
        &dir,
        None,
        &PublishOptions {
            prune: true,
            ..opts()
        },
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(pruned.deleted, 1, "{:#?}", failures(&pruned));
    let left = versions(&ops, EMPTY).await;
    assert!(!left.contains_key(&gone) && left.contains_key(&keep));
    let atts = call(&ops, "attachments", "listForPage", json!({ "id": keep })).await;
    assert!(
        atts["items"].as_array().unwrap().is_empty(),
        "the file outside was uploaded: {atts}"
    );
}

#[tokio::test]
async fn two_files_with_one_title_are_refused_not_merged() {
    let sim = start(demo_with_empty_space(27)).await;
    let ops = ops(&sim, Config::default()).await;
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    std::fs::write(dir.path().join("a.md"), "# Same\n\nfirst\n").unwrap();
    std::fs::write(dir.path().join("b/a.md"), "# Same\n\nsecond\n").unwrap();
    let r = publish(&ops, dir.path(), Some(EMPTY), &opts(), &NoProgress)
        .await
        .unwrap();
    assert_eq!((r.created, r.failed), (1, 1), "{:#?}", failures(&r));
    let error = failures(&r).remove(0);
    assert_eq!(error.0, "b/a.md");
    assert!(error.1.contains("unique"), "{}", error.1);
    let pages = versions(&ops, EMPTY).await;
    assert_eq!(pages.len(), 1);
    let id = pages.keys().next().unwrap();
    assert!(storage_of(&ops, id).await.contains("first"));
}
