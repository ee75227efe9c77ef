//! The operations behind Conflux's tools: every tool action, run through [`Ops::call`] (the one
//! entry: the declaration's argument check, then the guardrails that hold on every call:
//! read-only mode, space allow/deny lists, per-space read-only, on every resource the action
//! touches), over [`conflux_client::Client`], with errors that carry the fix ([`OpError`]).
//!
//! The MCP server, the CLI and the web page all call into this crate; it never reads the
//! environment and never imports them.
//!
//! ```no_run
//! # async fn demo(client: conflux_client::Client) -> conflux_ops::Result<()> {
//! use conflux_ops::{Config, Ops};
//! let ops = Ops::new(client, Config { read_only: true, ..Config::default() });
//! let out = ops
//!     .call("search", "cql", serde_json::json!({ "cql": "type = page" }))
//!     .await?;
//! println!("{}", out.verbose());
//! # Ok(()) }
//! ```

pub mod args;
pub mod catalog;
pub mod doctor;
mod error;
pub mod files;
mod mentions;
pub mod model;
mod render;
pub mod sections;
mod tools;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use conflux_client::{Client, Surface};

pub use error::{OpError, OpErrorKind, Result};
pub use files::FilesRoot;
pub use model::{Data, Output};

/// Guardrails and caps; the binary builds it from flags and environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Refuse every write action, whatever the credential could do.
    pub read_only: bool,
    /// When non-empty, only these spaces (keys or ids) are reachable.
    pub allow_spaces: Vec<String>,
    /// These spaces (keys or ids) are never reachable.
    pub deny_spaces: Vec<String>,
    /// These spaces (keys or ids) may be read but not written.
    pub read_only_spaces: Vec<String>,
    /// The directory under which bodies and attachments may be read from and written to local
    /// paths (`bodyFile`, `outputFile`, `filePath`); `None`, the default: no local file at all.
    /// Only the person who starts a server on their own machine sets it (`--files-root`).
    pub files_root: Option<FilesRoot>,
    /// Default cap on body text returned inline, in bytes.
    pub max_body_bytes: usize,
    /// Default cap on attachment downloads, in bytes.
    pub max_download_bytes: u64,
    /// Default page size of lists.
    pub default_limit: u32,
    /// Where errors are shown, which decides how their fixes are worded.
    pub surface: Surface,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            read_only: false,
            allow_spaces: Vec::new(),
            deny_spaces: Vec::new(),
            read_only_spaces: Vec::new(),
            files_root: None,
            max_body_bytes: 60_000,
            max_download_bytes: 5 * 1024 * 1024,
            default_limit: 25,
            surface: Surface::Cli,
        }
    }
}

/// The operations, bound to one client and one policy. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Ops {
    client: Client,
    config: Arc<Config>,
    /// Space id -> key, learned as spaces are looked up (for the space lists).
    space_keys: Arc<Mutex<HashMap<String, String>>>,
}

impl Ops {
    pub fn new(client: Client, config: Config) -> Ops {
        Ops {
            client,
            config: Arc::new(config),
            space_keys: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs `action` of `tool` with its JSON arguments (flat object, `action` included or not).
    ///
    /// Not an `async fn`: the body of one is compiled again in a crate that awaits it (the MCP
    /// server had a second copy of every action, docs/mcp.md), a boxed future made here is
    /// not.
    #[inline(never)]
    pub fn call<'a>(
        &'a self,
        tool: &'a str,
        action: &'a str,
        args: serde_json::Value,
    ) -> futures::future::BoxFuture<'a, Result<Output>> {
        Box::pin(self.dispatch(tool, action, args))
    }

    /// [`Ops::call`]'s work: the arguments checked, then the tool's action.
    async fn dispatch(&self, tool: &str, action: &str, args: serde_json::Value) -> Result<Output> {
        let spec = catalog::tool(tool).ok_or_else(|| {
            OpError::invalid(
                format!("unknown tool `{tool}`"),
                format!(
                    "use one of: {}",
                    catalog::TOOLS
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let action = spec.action(action).ok_or_else(|| {
            OpError::invalid(
                format!("unknown action `{action}` for `{tool}`"),
                format!(
                    "`action` must be one of: {}",
                    spec.action_names(self.config.read_only).join(", ")
                ),
            )
        })?;
        if action.write && self.config.read_only {
            return Err(OpError::policy(
                format!(
                    "`{}.{}` writes to Confluence and this server is in read-only mode",
                    tool, action.name
                ),
                self.policy_hint(Guard::ReadOnly),
            ));
        }
        let mut args = match args {
            serde_json::Value::Object(m) => m,
            serde_json::Value::Null => serde_json::Map::new(),
            other => {
                return Err(OpError::invalid(
                    format!("the arguments must be a JSON object, not {other}"),
                    "pass the arguments as an object of named fields",
                ));
            }
        };
        args.remove("action");
        // An absent optional argument may come as null; the typed arguments know it as absent.
        // Not an argument that takes any JSON (a content property's value): null is a value.
        args.retain(|k, v| {
            !v.is_null()
                || spec
                    .param(k)
                    .is_some_and(|p| p.kind == catalog::ParamKind::Json)
        });
        spec.check_arguments(action, &args).map_err(|message| {
            OpError::invalid(
                message,
                "fix the arguments as the message says; nothing was sent to Confluence",
            )
        })?;
        self.guard(action, &args)
            .await
            .map_err(|e| e.for_surface(self.config.surface))?;
        args.insert("action".into(), action.name.into());
        let name = action.name;
        // Each tool's future is boxed: their state machines (one arm per action) are large,
        // and held inline they would sit on the stack of whichever task polls the call (a
        // worker thread of the HTTP server overflowed its stack on a refused read).
        let result = match tool {
            "pages" => Box::pin(self.pages(name, parse(args)?)).await,
            "blogposts" => Box::pin(self.blogposts(name, parse(args)?)).await,
            "users" => Box::pin(self.users(name, parse(args)?)).await,
            "templates" => Box::pin(self.templates(name, parse(args)?)).await,
            "spaces" => Box::pin(self.spaces(name, parse(args)?)).await,
            "search" => Box::pin(self.search(name, parse(args)?)).await,
            "content" => Box::pin(self.content(name, parse(args)?)).await,
            "comments" => Box::pin(self.comments(name, parse(args)?)).await,
            "labels" => Box::pin(self.labels(name, parse(args)?)).await,
            "attachments" => Box::pin(self.attachments(name, parse(args)?)).await,
            "versions" => Box::pin(self.versions(name, parse(args)?)).await,
            "databases" => Box::pin(self.databases(name, parse(args)?)).await,
            "connection" => Box::pin(self.connection(name, parse(args)?)).await,
            _ => Err(OpError::invalid(format!("unknown tool `{tool}`"), "")),
        };
        result.map_err(|e| e.for_surface(self.config.surface))
    }

    // ---- guardrails ----

    /// The guardrails, in one place, before the action sends anything: the space of every
    /// resource the action declares it touches ([`catalog::ActionSpec::touches`]) must pass
    /// the space lists (as a write, for a write action). A resource whose space cannot be
    /// established is refused (fail closed).
    async fn guard(
        &self,
        action: &catalog::ActionSpec,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        use catalog::Resource as R;
        let write = action.write;
        if !self.needs_space_check(write) {
            return Ok(());
        }
        for t in action.touches {
            let Some(value) = args.get(t.param).and_then(serde_json::Value::as_str) else {
                continue;
            };
            let space = match t.resource {
                R::Space => self.space_id_of(value).await?,
                R::Page => self.page_space(value).await?,
                R::Container => self.container_space_of(value).await?,
                R::FooterComment => {
                    let c = self.client.comments().footer_comment(value).await?;
                    self.comment_space(value, &c).await?
                }
                R::InlineComment => {
                    let c = self.client.comments().inline_comment(value).await?;
                    self.comment_space(value, &c).await?
                }
                R::BlogPost => self.client.blogposts().get(value, None).await?.space_id,
                R::Attachment => {
                    let a = self.client.attachments().get(value).await?;
                    // The page or blog post Confluence names; the caller's `pageId` only where
                    // it names neither and the request itself goes through that page (a
                    // download), so that naming a page in another space gets nothing.
                    let caller_page = args
                        .get("pageId")
                        .and_then(serde_json::Value::as_str)
                        .filter(|_| action.name == "download");
                    match (a.page_id, a.blog_post_id, caller_page) {
                        (Some(page), _, _) => self.page_space(&page).await?,
                        (None, Some(post), _) => {
                            self.client.blogposts().get(&post, None).await?.space_id
                        }
                        (None, None, Some(page)) => self.page_space(page).await?,
                        (None, None, None) => {
                            return Err(OpError::policy(
                                format!(
                                    "attachment {value} names no page or blog post, so its \
                                     space cannot be checked"
                                ),
                                "download it with `pageId`, the page it is attached to",
                            ));
                        }
                    }
                }
                R::Database => {
                    let db = self.client.databases().get(value).await?;
                    self.container_space(&db).await?
                }
            };
            self.check_space_id(&space, write).await?;
        }
        Ok(())
    }

    /// The space of the page or blog post a comment is on.
    async fn comment_space(&self, id: &str, c: &conflux_client::models::Comment) -> Result<String> {
        if let Some(page) = &c.page_id {
            return self.page_space(page).await;
        }
        if let Some(post) = &c.blog_post_id {
            return Ok(self.client.blogposts().get(post, None).await?.space_id);
        }
        Err(OpError::policy(
            format!("comment {id} is on no page or blog post, so its space cannot be checked"),
            "comment on a page or blog post",
        ))
    }

    async fn page_space(&self, page_id: &str) -> Result<String> {
        Ok(self
            .client
            .pages()
            .get(page_id.to_string().into(), None)
            .await?
            .space_id)
    }

    /// The space of a parent: a page, else a folder, else a database.
    async fn container_space_of(&self, id: &str) -> Result<String> {
        use conflux_client::ErrorKind as K;
        match self.client.pages().get(id.to_string().into(), None).await {
            Ok(p) => return Ok(p.space_id),
            Err(e) if e.kind() != K::NotFound => return Err(e.into()),
            Err(_) => {}
        }
        match self.client.folders().get(id).await {
            Ok(f) => return self.container_space(&f).await,
            Err(e) if e.kind() != K::NotFound => return Err(e.into()),
            Err(_) => {}
        }
        let db = self.client.databases().get(id).await.map_err(|_| {
            OpError::invalid(
                format!("`parentId` {id} is no page, folder or database this account can see"),
                "pass the id of a page or folder",
            )
        })?;
        self.container_space(&db).await
    }

    /// Who can lift a guardrail, and how, in the words of the surface showing the refusal.
    pub(crate) fn policy_hint(&self, guard: Guard) -> String {
        policy_hint(self.config.surface, guard)
    }
}

/// Who can lift a guardrail, and how, in the words of `surface`.
pub(crate) fn policy_hint(surface: Surface, guard: Guard) -> String {
    let (flag, var) = match guard {
        Guard::ReadOnly => ("--read-only", "CONFLUX_READ_ONLY (or READ_ONLY_MODE)"),
        Guard::DenySpaces => ("--deny-spaces", "CONFLUX_DENY_SPACES"),
        Guard::AllowSpaces => ("--allow-spaces", "CONFLUX_ALLOW_SPACES"),
        Guard::ReadOnlySpaces => ("--read-only-spaces", "CONFLUX_READ_ONLY_SPACES"),
    };
    let what = match guard {
        Guard::ReadOnly => "writes are refused",
        Guard::DenySpaces => "the space is denied",
        Guard::AllowSpaces => "the spaces are limited",
        Guard::ReadOnlySpaces => "writes to the space are refused",
    };
    match surface {
        Surface::Cli => format!("{what} because {var} is set; unset it or change it"),
        Surface::Stdio => format!(
            "{what} by this server's {flag} ({var}) in the MCP client's configuration of it; \
             change it there and restart the server"
        ),
        Surface::Http => format!(
            "{what} by this server's settings ({flag}); whoever runs the server decides them"
        ),
    }
}

impl Ops {
    fn spaces_guarded(&self) -> bool {
        !self.config.allow_spaces.is_empty() || !self.config.deny_spaces.is_empty()
    }

    fn needs_space_check(&self, write: bool) -> bool {
        self.spaces_guarded() || (write && !self.config.read_only_spaces.is_empty())
    }

    /// Whether the space with this id and key passes the lists.
    fn space_verdict(&self, id: &str, key: &str, write: bool) -> Result<()> {
        let hit = |list: &[String]| list.iter().any(|s| s.eq_ignore_ascii_case(key) || s == id);
        let name = if key.is_empty() { id } else { key };
        if hit(&self.config.deny_spaces) {
            return Err(OpError::policy(
                format!("space {name} is on this server's deny list"),
                self.policy_hint(Guard::DenySpaces),
            ));
        }
        if !self.config.allow_spaces.is_empty() && !hit(&self.config.allow_spaces) {
            return Err(OpError::policy(
                format!("space {name} is not on this server's allow list"),
                format!(
                    "only these spaces are reachable: {}; {}",
                    self.config.allow_spaces.join(", "),
                    self.policy_hint(Guard::AllowSpaces)
                ),
            ));
        }
        if write && hit(&self.config.read_only_spaces) {
            return Err(OpError::policy(
                format!("space {name} is read-only on this server"),
                format!(
                    "read from it freely; {}",
                    self.policy_hint(Guard::ReadOnlySpaces)
                ),
            ));
        }
        Ok(())
    }

    fn remember_space(&self, id: &str, key: &str) {
        // A call that panicked while holding the lock left nothing half-written in a map
        // insert, so the map stays usable.
        self.space_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.to_string(), key.to_string());
    }

    async fn space_key(&self, space_id: &str) -> Result<String> {
        if let Some(k) = self
            .space_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(space_id)
            .cloned()
        {
            return Ok(k);
        }
        let s = self.client.spaces().get(space_id).await?;
        self.remember_space(&s.id, &s.key);
        Ok(s.key)
    }

    /// The id of the space `id_or_key` names: ids are numbers, anything else is a key (looked
    /// up once, remembered). v2 filters and creates take ids only and answer a key with
    /// nothing found, so a key is turned into its id first.
    async fn space_id_of(&self, id_or_key: &str) -> Result<String> {
        if id_or_key.is_empty() || id_or_key.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id_or_key.to_string());
        }
        if let Some(id) = self
            .space_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(_, key)| key.eq_ignore_ascii_case(id_or_key))
            .map(|(id, _)| id.clone())
        {
            return Ok(id);
        }
        let space = self.client.spaces().get_by_key_or_id(id_or_key).await?;
        self.remember_space(&space.id, &space.key);
        Ok(space.id)
    }

    async fn check_space_id(&self, space_id: &str, write: bool) -> Result<()> {
        if !self.needs_space_check(write) {
            return Ok(());
        }
        let key = self.space_key(space_id).await?;
        self.space_verdict(space_id, &key, write)
    }

    /// The space of a database, folder or whiteboard. Atlassian's schema for them has no
    /// `spaceId`, so it is read from the nearest page above them (through folders and
    /// databases in between). When none can be found (a container at the top of its space),
    /// the space cannot be established, and the action is refused: fail closed.
    async fn container_space(&self, c: &conflux_client::models::Container) -> Result<String> {
        /// Deeper than any tree the editor makes; a cycle or a runaway chain stops here.
        const MAX_HOPS: usize = 32;
        if let Some(space) = &c.space_id {
            return Ok(space.clone());
        }
        let what = format!("{} `{}` (id {})", c.content_type, c.title, c.id);
        let mut parent = c.parent_id.clone().zip(c.parent_type.clone());
        for _ in 0..MAX_HOPS {
            let Some((id, kind)) = parent else { break };
            let next = match kind.as_str() {
                "page" => {
                    let page = self.client.pages().get(id.into(), None).await?;
                    return Ok(page.space_id);
                }
                "folder" => self.client.folders().get(&id).await?,
                "database" => self.client.databases().get(&id).await?,
                _ => break,
            };
            if let Some(space) = next.space_id {
                return Ok(space);
            }
            parent = next.parent_id.zip(next.parent_type);
        }
        Err(OpError::policy(
            format!(
                "this server limits spaces, and the space of {what} cannot be established \
                 (Confluence names no space for it and no page above it), so it is refused"
            ),
            format!(
                "move it under a page of an allowed space; {}",
                self.policy_hint(Guard::AllowSpaces)
            ),
        ))
    }

    /// Whether an item in space `space_id` may be shown (lists drop the others).
    async fn visible(&self, space_id: &str) -> bool {
        if !self.spaces_guarded() {
            return true;
        }
        match self.space_key(space_id).await {
            Ok(key) => self.space_verdict(space_id, &key, false).is_ok(),
            Err(_) => false,
        }
    }
}

/// The typed arguments of one action, from arguments the declaration has checked (so a failure
/// here is a declaration and its enum disagreeing, still reported, never a panic).
fn parse<T: serde::de::DeserializeOwned>(
    args: serde_json::Map<String, serde_json::Value>,
) -> Result<T> {
    serde_json::from_value(serde_json::Value::Object(args)).map_err(|e| {
        OpError::invalid(
            format!("invalid arguments: {e}"),
            "fix the arguments as the message says; nothing was sent to Confluence",
        )
    })
}

/// The guardrails whose refusals say who can lift them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Guard {
    ReadOnly,
    DenySpaces,
    AllowSpaces,
    ReadOnlySpaces,
}
