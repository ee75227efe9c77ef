//! Every tool action as a subcommand, generated from the declarations in `conflux-ops`:
//! `conflux pages get 123`, `conflux comments getFooter 123 -o json`. A subcommand runs the
//! same call an MCP client makes (`Ops::call`): the same argument checks, guardrails and
//! Markdown bodies; `-o json` prints the structured result the MCP tool returns.
//!
//! Arguments are the tool's, in kebab case (`--space-id`, with `--space` as an alias for each
//! `...Id`); `id` (and `cql` for search) may also be given as the first positional argument.
//! Local files are the person's own: `--body-file` and `--output-file` take any path they can
//! read or write (`-` is stdin for a body).

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use clap::{Arg, ArgAction, ArgMatches, Command};
use conflux_ops::catalog::{ParamKind, ParamSpec, TOOLS, ToolSpec};
use conflux_ops::{Config, FilesRoot, Ops};
use serde_json::{Map, Value, json};

use crate::output::Printer;

/// Arguments given positionally: the first of these the tool declares.
const POSITIONAL: &[&str] = &["id", "cql"];

/// The id of the positional argument in clap's matches.
const POSITIONAL_ID: &str = "POSITIONAL";

/// Follows every cursor to the end (list actions).
const ALL: &str = "all";

/// The argument of `action` given positionally, if it takes one.
fn positional(tool: &ToolSpec, action: &str) -> Option<&'static str> {
    let takes = &tool.action_args(action).takes;
    POSITIONAL.iter().copied().find(|p| takes.contains(p))
}

/// Whether `name` is a tool subcommand.
pub fn is_tool(name: &str) -> bool {
    conflux_ops::catalog::tool(name).is_some()
}

/// `--space-id` for `spaceId`.
fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One subcommand per tool, one sub-subcommand per action.
pub fn commands() -> Vec<Command> {
    TOOLS.iter().map(tool_command).collect()
}

fn tool_command(tool: &'static ToolSpec) -> Command {
    let mut cmd = Command::new(tool.name).about(tool.description);
    if let [only] = tool.actions {
        // One action: `conflux search 'type = page'` runs it without naming it.
        cmd = with_action_args(cmd, tool, only.name).args_conflicts_with_subcommands(true);
    } else {
        cmd = cmd.subcommand_required(true).arg_required_else_help(true);
    }
    for action in tool.actions {
        let mut sub = Command::new(action.name).about(tool.action_line(action));
        let kebab_name = kebab(action.name);
        if kebab_name != action.name {
            sub = sub.alias(kebab_name);
        }
        cmd = cmd.subcommand(with_action_args(sub, tool, action.name));
    }
    cmd
}

/// The positional argument, the arguments the action takes, and `--all` for paged lists.
fn with_action_args(mut cmd: Command, tool: &'static ToolSpec, action: &str) -> Command {
    let takes = &tool.action_args(action).takes;
    let required = &tool.action_args(action).required;
    let positional = positional(tool, action);
    if let Some(p) = positional {
        cmd = cmd.arg(
            Arg::new(POSITIONAL_ID)
                .value_name(p.to_ascii_uppercase())
                .help(format!("The `{p}` argument"))
                .conflicts_with(p),
        );
    }
    for p in tool.params.iter().filter(|p| takes.contains(&p.name)) {
        let is_positional = positional.is_some_and(|q| q == p.name);
        cmd = cmd.arg(param_arg(p, required.contains(&p.name), is_positional));
    }
    if takes.contains(&"cursor") {
        cmd = cmd.arg(
            Arg::new(ALL)
                .long(ALL)
                .action(ArgAction::SetTrue)
                .help("Follow every cursor to the end"),
        );
    }
    cmd
}

fn param_arg(p: &'static ParamSpec, required: bool, positional: bool) -> Arg {
    let long = kebab(p.name);
    let mut arg = Arg::new(p.name).long(long.clone()).help(help(p));
    if let Some(short) = long.strip_suffix("-id")
        && !short.is_empty()
    {
        arg = arg.visible_alias(short.to_string());
    }
    arg = match p.kind {
        ParamKind::Text => arg.value_name("TEXT"),
        ParamKind::Json | ParamKind::Files => arg.value_name("JSON"),
        ParamKind::Id(_) => arg.value_name("ID"),
        ParamKind::Ids(_) => arg
            .value_name("ID,ID")
            .action(ArgAction::Append)
            .value_delimiter(','),
        ParamKind::Integer { min } => arg
            .value_name("N")
            .value_parser(clap::value_parser!(u64).range(min..)),
        ParamKind::Flag => arg.action(ArgAction::SetTrue),
        ParamKind::List => arg
            .value_name("A,B")
            .action(ArgAction::Append)
            .value_delimiter(','),
        ParamKind::OneOf(values) => arg.value_parser(values.to_vec()),
    };
    if required {
        arg = if positional {
            arg.required_unless_present(POSITIONAL_ID)
        } else {
            arg.required(true)
        };
    }
    arg
}

/// An argument's help: its declared words, or (where the MCP schema leaves the name to speak
/// for itself) words from its name and kind.
fn help(p: &ParamSpec) -> String {
    use conflux_types::IdKind;
    if !p.description.is_empty() {
        return p.description.to_string();
    }
    match (p.name, p.kind) {
        ("limit", _) => "Page size (max 250)".into(),
        ("cursor", _) => "The nextCursor of the previous page".into(),
        (_, ParamKind::Id(IdKind::SpaceIdOrKey)) => "Space id or key".into(),
        (_, ParamKind::Id(IdKind::SpaceKey)) => "Space key".into(),
        (_, ParamKind::Id(IdKind::Attachment)) => "Attachment id".into(),
        (name, ParamKind::Id(IdKind::Numeric)) => {
            format!("The {} (digits)", kebab(name).replace('-', " "))
        }
        (name, _) => format!("The {}", kebab(name).replace('-', " ")),
    }
}

/// The arguments of one action as the JSON object `Ops::call` takes.
fn arguments(tool: &ToolSpec, action: &str, m: &ArgMatches) -> anyhow::Result<Map<String, Value>> {
    let takes = &tool.action_args(action).takes;
    let mut args = Map::new();
    for p in tool.params.iter().filter(|p| takes.contains(&p.name)) {
        let value = match p.kind {
            ParamKind::Text | ParamKind::OneOf(_) | ParamKind::Id(_) => {
                m.get_one::<String>(p.name).map(|s| json!(s))
            }
            ParamKind::Integer { .. } => m.get_one::<u64>(p.name).map(|n| json!(n)),
            // JSON as written, or the text itself when it is not JSON (`--value draft`).
            ParamKind::Json => m
                .get_one::<String>(p.name)
                .map(|s| serde_json::from_str(s).unwrap_or_else(|_| json!(s))),
            // `[{"filePath": "a.png"}, ...]`; checked by `Ops::call` like any argument.
            ParamKind::Files => match m.get_one::<String>(p.name) {
                Some(s) => Some(serde_json::from_str(s).with_context(|| {
                    format!(
                        "--{} takes a JSON array of files, each {{\"filePath\": ...}} or \
                         {{\"fileName\": ..., \"data\": BASE64}}",
                        kebab(p.name)
                    )
                })?),
                None => None,
            },
            ParamKind::Flag => m.get_flag(p.name).then_some(Value::Bool(true)),
            ParamKind::List | ParamKind::Ids(_) => m
                .get_many::<String>(p.name)
                .map(|v| json!(v.collect::<Vec<_>>())),
        };
        if let Some(v) = value {
            args.insert(p.name.to_string(), v);
        }
    }
    if let Some(v) = m.try_get_one::<String>(POSITIONAL_ID).ok().flatten()
        && let Some(p) = positional(tool, action)
    {
        args.insert(p.to_string(), json!(v));
    }
    // The person's own files: `-` is stdin, and paths are theirs to name (made absolute, so
    // that the root below, `/`, takes them as they meant them).
    if args.get("bodyFile").and_then(Value::as_str) == Some("-") {
        let mut body = String::new();
        std::io::stdin()
            .read_to_string(&mut body)
            .context("reading the body from stdin")?;
        args.remove("bodyFile");
        args.insert("body".into(), json!(body));
    }
    for key in ["bodyFile", "outputFile", "filePath"] {
        if let Some(path) = args.get(key).and_then(Value::as_str) {
            args.insert(key.into(), json!(absolute(path)?));
        }
    }
    if let Some(Value::Array(files)) = args.get_mut("files") {
        for f in files.iter_mut() {
            if let Some(path) = f.get("filePath").and_then(Value::as_str) {
                f["filePath"] = json!(absolute(path)?);
            }
        }
    }
    Ok(args)
}

/// A path the person named, made absolute against the working directory.
fn absolute(path: &str) -> anyhow::Result<String> {
    let absolute =
        std::path::absolute(Path::new(path)).with_context(|| format!("the path `{path}`"))?;
    Ok(absolute.display().to_string())
}

/// Runs `conflux TOOL ACTION ...`.
pub async fn run(
    client: &conflux_client::Client,
    mut config: Config,
    out: &Printer,
    tool_name: &str,
    matches: &ArgMatches,
) -> anyhow::Result<()> {
    let tool = conflux_ops::catalog::tool(tool_name)
        .with_context(|| format!("`{tool_name}` is no tool"))?;
    let (action, m) = match (matches.subcommand(), tool.actions) {
        (Some((action, m)), _) => (action, m),
        (None, [only]) => (only.name, matches),
        (None, _) => anyhow::bail!("`conflux {tool_name}` needs an action"),
    };
    let args = arguments(tool, action, m)?;
    config.files_root = Some(FilesRoot::open(Path::new("/")).context("opening the file system")?);
    let ops = Ops::new(client.clone(), config);
    let all = m.try_get_one::<bool>(ALL).ok().flatten() == Some(&true);
    if !all {
        let output = ops.call(tool.name, action, Value::Object(args)).await?;
        return out.op_output(&output);
    }
    // Every page: text prints each as it comes; JSON gathers the items into one answer.
    let mut args = args;
    let mut gathered: Option<Value> = None;
    loop {
        let output = ops
            .call(tool.name, action, Value::Object(args.clone()))
            .await?;
        let mut page = output.to_json();
        let next = page
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(String::from);
        if out.is_json() {
            match &mut gathered {
                None => gathered = Some(page),
                Some(all) => {
                    let items = page
                        .get_mut("items")
                        .and_then(Value::as_array_mut)
                        .map(std::mem::take)
                        .unwrap_or_default();
                    if let Some(list) = all.get_mut("items").and_then(Value::as_array_mut) {
                        list.extend(items);
                    }
                }
            }
        } else {
            out.op_output(&output)?;
        }
        match next {
            Some(cursor) => {
                args.insert("cursor".into(), json!(cursor));
            }
            None => break,
        }
    }
    if let Some(mut all) = gathered {
        let count = all
            .get("items")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        all["count"] = json!(count);
        all["nextCursor"] = Value::Null;
        out.json_value(&all)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_kebab_case() {
        assert_eq!(kebab("spaceId"), "space-id");
        assert_eq!(kebab("parentCommentId"), "parent-comment-id");
        assert_eq!(kebab("id"), "id");
    }

    /// Every tool and action of the declarations is a subcommand, and clap accepts the lot.
    #[test]
    fn every_action_is_a_subcommand() {
        let cmd = Command::new("conflux").subcommands(commands());
        cmd.clone().debug_assert();
        for t in TOOLS {
            let sub = cmd.find_subcommand(t.name).expect("tool subcommand");
            for a in t.actions {
                assert!(
                    sub.find_subcommand(a.name).is_some(),
                    "{}.{}",
                    t.name,
                    a.name
                );
            }
        }
        // Each action shows the flags it reads, and no other.
        let pages = cmd.find_subcommand("pages").expect("pages");
        let flags = |action: &str| -> Vec<String> {
            pages
                .find_subcommand(action)
                .expect("action")
                .get_arguments()
                .filter_map(|a| a.get_long().map(String::from))
                .collect()
        };
        assert!(flags("update").contains(&"parent-id".to_string()));
        assert!(!flags("get").contains(&"parent-id".to_string()));
        assert!(!flags("outline").contains(&"all".to_string()));
        assert!(flags("list").contains(&"all".to_string()));
    }
}
