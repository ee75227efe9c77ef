//! A space's content tree (pages, folders, databases, whiteboards) and where each node goes in
//! the folder: a node with children (or a Confluence folder) is a folder with an `index.md`,
//! any other node a `Name.md` beside its siblings. Built by iteration, never recursion: page
//! trees can be deep.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use conflux_client::models::ContentRef;
use conflux_client::{Client, ErrorKind, PageRequest};
use futures::TryStreamExt as _;

use crate::error::Result;
use crate::names::unique_names;

/// One node of the tree.
#[derive(Clone, Debug, Default)]
pub(crate) struct Node {
    pub id: String,
    /// `page`, `folder`, `database`, `whiteboard`, ...
    pub kind: String,
    pub title: String,
    pub parent: Option<String>,
    pub version: u64,
    pub last_modified: Option<String>,
    pub author: Option<String>,
}

/// The tree, and each node's file.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub nodes: BTreeMap<String, Node>,
    /// Node id -> `/`-separated file path in the folder.
    pub paths: HashMap<String, String>,
    /// Nodes no path could be given (a parent cycle Confluence should never have).
    pub unplaced: Vec<String>,
}

/// The v2 descendants call answers five levels at most.
const DESCENDANT_DEPTH: u32 = 5;

/// Reads the tree of the space `space_id`: every current page in bulk (250 a request), then
/// the other kinds of node through the descendants of the top pages, five levels a request.
pub(crate) async fn read(client: &Client, space_id: &str) -> Result<Tree> {
    let filter = conflux_client::api::PageList {
        space_id: Some(space_id.to_string()),
        status: Some("current".into()),
        ..Default::default()
    };
    let pages: Vec<_> = client.pages().list_all(&filter, 250).try_collect().await?;
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    for p in pages {
        let v = p.version.as_ref();
        nodes.insert(
            p.id.clone(),
            Node {
                id: p.id.clone(),
                kind: "page".into(),
                title: p.title.clone(),
                parent: p.parent_id.clone(),
                version: v.map(|v| v.number).unwrap_or(1),
                last_modified: v.and_then(|v| v.created_at.clone()),
                author: v.and_then(|v| v.author_id.clone()),
            },
        );
    }
    // Folders, databases and whiteboards: under the top pages, level by level.
    let mut frontier: VecDeque<String> = nodes
        .values()
        .filter(|n| n.parent.is_none())
        .map(|n| n.id.clone())
        .collect();
    let mut walked: HashSet<String> = HashSet::new();
    while let Some(root) = frontier.pop_front() {
        if !walked.insert(root.clone()) {
            continue;
        }
        let mut request = PageRequest::limit(250);
        loop {
            let page = match client
                .content()
                .descendants(root.clone().into(), Some(DESCENDANT_DEPTH), &request)
                .await
            {
                Ok(p) => p,
                // A folder at the fifth level: its own descendants are another endpoint's.
                Err(e) if e.kind() == ErrorKind::NotFound => break,
                Err(e) => return Err(e.into()),
            };
            for d in page.results {
                if d.depth == Some(DESCENDANT_DEPTH) {
                    frontier.push_back(d.id.clone());
                }
                add_ref(&mut nodes, d);
            }
            match page.next_cursor {
                Some(c) => request.cursor = Some(c),
                None => break,
            }
        }
    }
    // Parents still unknown (a folder at the top of the space): read them, up their chain.
    let mut missing: Vec<String> = missing_parents(&nodes);
    let mut tries = 0;
    while let Some(id) = missing.pop() {
        tries += 1;
        if tries > 10_000 || nodes.contains_key(&id) {
            continue;
        }
        let found = match client.folders().get(&id).await {
            Ok(f) => Some(f),
            Err(e) if e.kind() == ErrorKind::NotFound => match client.databases().get(&id).await {
                Ok(d) => Some(d),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        if let Some(c) = found {
            if let Some(p) = &c.parent_id
                && !nodes.contains_key(p)
            {
                missing.push(p.clone());
            }
            nodes.insert(
                c.id.clone(),
                Node {
                    id: c.id.clone(),
                    kind: c.content_type.clone(),
                    title: c.title.clone(),
                    parent: c.parent_id.clone(),
                    version: 1,
                    last_modified: c.created_at.clone(),
                    author: c.author_id.clone(),
                },
            );
        }
    }
    Ok(place(nodes))
}

fn add_ref(nodes: &mut BTreeMap<String, Node>, d: ContentRef) {
    if nodes.contains_key(&d.id) || d.content_type == "page" || d.content_type.is_empty() {
        // Pages come from the page list (with their versions); a page the list did not give
        // (a draft, archived) is not exported.
        return;
    }
    nodes.insert(
        d.id.clone(),
        Node {
            id: d.id,
            kind: d.content_type,
            title: d.title,
            parent: d.parent_id,
            version: 1,
            last_modified: None,
            author: None,
        },
    );
}

fn missing_parents(nodes: &BTreeMap<String, Node>) -> Vec<String> {
    let mut out: Vec<String> = nodes
        .values()
        .filter_map(|n| n.parent.clone())
        .filter(|p| !nodes.contains_key(p))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Numeric ids in numeric order (Confluence's ids are numbers; others sort after).
fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
}

/// Gives every node its file, breadth first from the top.
pub(crate) fn place(nodes: BTreeMap<String, Node>) -> Tree {
    let mut children: HashMap<Option<String>, Vec<String>> = HashMap::new();
    for n in nodes.values() {
        // A parent outside the tree (another space, not readable): the node goes on top.
        let parent = n.parent.clone().filter(|p| nodes.contains_key(p));
        children.entry(parent).or_default().push(n.id.clone());
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| id_order(a, b));
    }
    let mut paths: HashMap<String, String> = HashMap::new();
    // (parent id, the folder its children go in)
    let mut queue: VecDeque<(Option<String>, String)> = VecDeque::from([(None, String::new())]);
    while let Some((parent, dir)) = queue.pop_front() {
        let Some(kids) = children.get(&parent) else {
            continue;
        };
        let named: Vec<(&str, &str)> = kids
            .iter()
            .filter_map(|id| nodes.get(id).map(|n| (n.id.as_str(), n.title.as_str())))
            .collect();
        let names = unique_names(named.iter().copied());
        for ((id, _), name) in named.iter().zip(names) {
            let prefix = if dir.is_empty() {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            let has_children = children.contains_key(&Some(id.to_string()));
            let is_folder = nodes.get(*id).is_some_and(|n| n.kind == "folder");
            if has_children || is_folder {
                paths.insert(id.to_string(), format!("{prefix}/index.md"));
                queue.push_back((Some(id.to_string()), prefix));
            } else {
                paths.insert(id.to_string(), format!("{prefix}.md"));
            }
        }
    }
    let unplaced = nodes
        .keys()
        .filter(|id| !paths.contains_key(*id))
        .cloned()
        .collect();
    Tree {
        nodes,
        paths,
        unplaced,
    }
}

/// The folder of a page's attachments: beside its file, named after it.
pub(crate) fn attachments_dir(path: &str) -> String {
    let stem = path.strip_suffix(".md").unwrap_or(path);
    format!("{stem}.attachments")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, title: &str, parent: Option<&str>, kind: &str) -> (String, Node) {
        (
            id.to_string(),
            Node {
                id: id.into(),
                kind: kind.into(),
                title: title.into(),
                parent: parent.map(String::from),
                version: 1,
                ..Node::default()
            },
        )
    }

    #[test]
    fn layout_mirrors_the_tree() {
        let t = place(BTreeMap::from([
            node("1", "Home", None, "page"),
            node("2", "Guide", Some("1"), "page"),
            node("3", "Step", Some("2"), "page"),
            node("4", "guide", Some("1"), "page"),
            node("5", "Box", Some("1"), "folder"),
            node("6", "Rows", Some("1"), "database"),
            node("7", "../../etc", Some("1"), "page"),
        ]));
        assert_eq!(t.paths["1"], "Home/index.md");
        assert_eq!(t.paths["2"], "Home/Guide/index.md");
        assert_eq!(t.paths["3"], "Home/Guide/Step.md");
        assert_eq!(t.paths["4"], "Home/guide (4).md");
        assert_eq!(t.paths["5"], "Home/Box/index.md");
        assert_eq!(t.paths["6"], "Home/Rows.md");
        assert_eq!(t.paths["7"], "Home/_.._etc.md");
        assert_eq!(attachments_dir("Home/index.md"), "Home/index.attachments");
    }

    #[test]
    fn deep_trees_and_cycles_do_not_recurse() {
        let mut nodes = BTreeMap::new();
        for i in 1..=20_000u32 {
            let parent = (i > 1).then(|| (i - 1).to_string());
            nodes.insert(
                i.to_string(),
                Node {
                    id: i.to_string(),
                    kind: "page".into(),
                    title: "p".into(),
                    parent,
                    ..Node::default()
                },
            );
        }
        nodes.extend([
            node("a", "A", Some("b"), "page"),
            node("b", "B", Some("a"), "page"),
        ]);
        let t = place(nodes);
        assert_eq!(t.paths.len(), 20_000);
        assert_eq!(t.unplaced, ["a", "b"]);
    }
}
