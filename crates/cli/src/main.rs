//! `conflux`: the command line. Thin: parse, load settings, call the client or start the
//! simulator, print. Errors print as `error: ...` then `hint: ...`; the exit code names the kind.

mod audit;
mod commands;
mod convert;
mod demo;
mod doctor;
mod observe;
mod output;
mod serve;
mod settings;
mod setup;
mod shutdown;
mod stdout;
mod sync;
mod tools;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use conflux_client::ClientError;

use crate::settings::Layer;

#[derive(Parser, Debug)]
#[command(
    name = "conflux",
    version,
    about = "The Confluence Cloud connector for AI agents and people"
)]
struct Cli {
    /// TOML settings file (default: $XDG_CONFIG_HOME/conflux/config.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Site URL, e.g. https://example.atlassian.net [env: CONFLUENCE_URL]
    #[arg(long, global = true)]
    url: Option<String>,
    /// Account email for API tokens [env: CONFLUENCE_USERNAME]
    #[arg(long, global = true)]
    username: Option<String>,
    /// API token, classic or scoped (Conflux tells them apart by trying) [env: CONFLUENCE_API_TOKEN]
    #[arg(long, global = true, hide_env_values = true)]
    token: Option<String>,
    /// The site's cloudId; discovered when absent [env: CONFLUENCE_CLOUD_ID]
    #[arg(long, global = true)]
    cloud_id: Option<String>,
    /// A raw OAuth access token, used as is [env: CONFLUENCE_ACCESS_TOKEN]
    #[arg(long, global = true, hide_env_values = true)]
    access_token: Option<String>,
    /// API token kind: detect (default), classic or scoped [env: CONFLUX_TOKEN_KIND]
    #[arg(long, global = true)]
    token_kind: Option<String>,
    /// API gateway base URL (default https://api.atlassian.com) [env: CONFLUX_GATEWAY_URL]
    #[arg(long, global = true)]
    gateway_url: Option<String>,
    /// Identity service base URL (default https://auth.atlassian.com) [env: CONFLUX_IDENTITY_URL]
    #[arg(long, global = true)]
    identity_url: Option<String>,
    /// Output: text (default) or json [env: CONFLUX_OUTPUT]
    #[arg(long, short, global = true)]
    output: Option<String>,
    /// Run against the built-in simulator with demo data instead of a real site.
    #[arg(long, global = true)]
    demo: bool,
    /// With --demo: which demo credential to use.
    #[arg(long, global = true, value_enum, default_value = "classic")]
    demo_as: demo::DemoCredential,
    /// Log level for stderr (error, warn, info, debug, trace) [env: CONFLUX_LOG]
    #[arg(long, global = true)]
    log: Option<String>,
    /// Log lines on stderr: text (default) or json (one object per line)
    #[arg(long, global = true, value_name = "FORMAT", env = "CONFLUX_LOG_FORMAT")]
    log_format: Option<conflux_telemetry::LogFormat>,
    /// The built-in commands; the tools' subcommands (generated) are matched beside them.
    #[command(subcommand)]
    command: Option<Command>,
}

/// What was asked for: a built-in command, or a tool action (`conflux pages get 123`).
enum Asked {
    Builtin(Command),
    Tool(String, clap::ArgMatches),
}

/// The whole command line: the derived one, and one subcommand per tool.
fn command_line() -> clap::Command {
    use clap::CommandFactory as _;
    Cli::command()
        .subcommands(tools::commands())
        .subcommand_required(true)
        .arg_required_else_help(true)
}

/// Parses the command line (clap prints help and usage errors and exits, as always).
///
/// A built-in command (`serve` above all, whose start-up is measured) is parsed without the
/// tools' subcommands: building one subcommand per tool action touches much of the binary and
/// the heap for nothing. Anything else (a tool action, `--help`, `--version`, a mistake) is
/// parsed again by the whole command line, so help and errors are the same as before.
fn parse() -> (Cli, Asked) {
    use clap::{CommandFactory as _, FromArgMatches as _};
    if let Ok(mut matches) = Cli::command().try_get_matches()
        && let Ok(mut cli) = Cli::from_arg_matches_mut(&mut matches)
        && let Some(command) = cli.command.take()
    {
        return (cli, Asked::Builtin(command));
    }
    let mut matches = command_line().get_matches();
    let tool = matches
        .subcommand()
        .filter(|(name, _)| tools::is_tool(name))
        .map(|(name, m)| (name.to_string(), m.clone()));
    let mut cli = Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.exit());
    let asked = match (tool, cli.command.take()) {
        (Some((name, m)), _) => Asked::Tool(name, m),
        (None, Some(command)) => Asked::Builtin(command),
        (None, None) => command_line()
            .error(
                clap::error::ErrorKind::MissingSubcommand,
                "a command is required",
            )
            .exit(),
    };
    (cli, asked)
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the Confluence Cloud simulator; prints one JSON line with its URLs and demo credentials.
    Sim(commands::SimArgs),
    /// A guided tour on the built-in simulator: credential detection, routing, reads, a refusal.
    Demo,
    /// Run the MCP server (stdio by default, --http ADDR for streamable HTTP at /mcp).
    Serve(Box<serve::ServeArgs>),
    /// What this credential can do: base URLs, scopes, every tool action, and the exact fix.
    Doctor(doctor::DoctorArgs),
    /// Convert storage format to Markdown or back, offline (stdin when no file is given).
    Convert(convert::ConvertArgs),
    /// Print the configuration an MCP client needs to start Conflux (Claude Desktop, Claude
    /// Code, VS Code, Cursor, Windsurf, Codex), in that client's own format.
    Setup(setup::SetupArgs),
    /// Security posture report: spaces and permissions, groups, broad access, what has no API.
    Audit,
    /// Export a space to a folder of Markdown (one file per page, attachments beside them);
    /// a second run fetches only what changed.
    Export(sync::ExportArgs),
    /// Publish a folder of Markdown to a space: creates or updates pages, labels and
    /// attachments; pages edited in Confluence since are left alone unless --force.
    Publish(sync::PublishArgs),
}

impl Cli {
    fn flag_layer(&self) -> Layer {
        Layer {
            url: self.url.clone(),
            username: self.username.clone(),
            api_token: self.token.clone().map(conflux_types::Secret::new),
            cloud_id: self.cloud_id.clone(),
            access_token: self.access_token.clone().map(conflux_types::Secret::new),
            token_kind: self.token_kind.clone(),
            scopes: None,
            gateway_url: self.gateway_url.clone(),
            identity_url: self.identity_url.clone(),
            output: self.output.clone(),
            retry_deadline_secs: None,
            max_url_length: None,
        }
    }
}

/// Exit codes by error kind, documented in the README.
fn exit_code(e: &anyhow::Error) -> u8 {
    use conflux_client::ErrorKind as K;
    if let Some(op) = e.downcast_ref::<conflux_ops::OpError>() {
        use conflux_ops::OpErrorKind as O;
        return match op.kind {
            O::InvalidInput | O::Policy => 2,
            O::Unauthorized | O::MissingScopes => 3,
            O::Forbidden | O::NotFound => 4,
            O::VersionConflict => 5,
            O::RateLimited | O::Upstream | O::Transport => 6,
            _ => 1,
        };
    }
    if let Some(conflux_mcp::ServeError::UnknownTool(_)) = e.downcast_ref() {
        return 2;
    }
    match e.downcast_ref::<ClientError>().map(ClientError::kind) {
        Some(K::InvalidInput | K::BadRequest | K::Config) => 2,
        Some(K::Unauthorized | K::MissingScopes) => 3,
        Some(K::Forbidden | K::NotFound | K::Gone) => 4,
        Some(K::VersionConflict) => 5,
        Some(K::RateLimited | K::Upstream | K::Transport) => 6,
        None => 1,
    }
}

fn print_error(e: &anyhow::Error) {
    if let Some(op) = e.downcast_ref::<conflux_ops::OpError>() {
        observe::error_lines(&op.message, Some(&op.hint), &[]);
        return;
    }
    match e.downcast_ref::<ClientError>() {
        Some(ce) => observe::error_lines(&ce.to_string(), Some(&ce.hint()), &[]),
        None => {
            let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
            observe::error_lines(&e.to_string(), None, &causes);
        }
    }
}

fn main() -> ExitCode {
    stdout::exit_quietly_on_closed_stdout();
    let (cli, asked) = parse();
    // `convert` is computation on one file: a runtime on this thread, without the worker
    // threads every other command may need (starting them is a few percent of converting
    // 1 MB; docs/convert.md, "Sixth pass").
    let mut runtime = match &asked {
        Asked::Builtin(Command::Convert(_)) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    match runtime.enable_all().build() {
        Ok(runtime) => runtime.block_on(main_async(cli, asked)),
        Err(e) => {
            print_error(&anyhow::Error::new(e).context("starting the async runtime"));
            ExitCode::FAILURE
        }
    }
}

async fn main_async(cli: Cli, asked: Asked) -> ExitCode {
    let env: HashMap<String, String> = std::env::vars().collect();
    let telemetry = match observe::init(
        cli.log
            .as_deref()
            .or(env.get("CONFLUX_LOG").map(String::as_str)),
        cli.log_format.unwrap_or_default(),
    ) {
        Ok(t) => t,
        Err(e) => {
            print_error(&e);
            return ExitCode::from(2);
        }
    };
    let result = run(cli, asked, env).await;
    if telemetry.traces() {
        // Spans still buffered go out before the process ends (blocking, so off the runtime).
        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout has gone away (`| head`): nothing more to say, and no one to
        // say it to.
        Err(e) if stdout::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&e);
            ExitCode::from(exit_code(&e))
        }
    }
}

async fn run(cli: Cli, asked: Asked, env: HashMap<String, String>) -> anyhow::Result<()> {
    if let Asked::Builtin(Command::Sim(args)) = &asked {
        return commands::run_sim(args).await;
    }
    if let Asked::Builtin(Command::Serve(args)) = &asked {
        // A tool name that does not exist is a mistake in the command line: say so before
        // anything else (a missing credential, say) is looked at.
        serve::check_tools(args)?;
        if args.print_scopes {
            return serve::print_scopes(args);
        }
    }
    if let Asked::Builtin(Command::Setup(args)) = &asked {
        return setup::run(args, cli.demo);
    }
    if let Asked::Builtin(Command::Demo) = &asked {
        return demo::tour().await;
    }
    if let Asked::Builtin(Command::Convert(args)) = &asked {
        return match convert::run(args)? {
            false => Ok(()),
            true => Err(anyhow::anyhow!(
                "the conversion was incomplete (see the warnings above)"
            )),
        };
    }
    let flags = cli.flag_layer();
    let file = match settings::config_path(cli.config.clone(), &env) {
        Some(p) => Layer::from_toml_file(&p)?,
        None => Layer::default(),
    };
    let mut layer = flags
        .over(Layer::from_conflux_env(&env))
        .over(Layer::from_confluence_env(&env))
        .over(file);
    // The embedded simulator lives as long as the command.
    let _sim = if cli.demo {
        let (sim, demo_layer) = demo::start(cli.demo_as).await?;
        if let Asked::Builtin(Command::Serve(args)) = &asked
            && args.http.is_some()
        {
            observe::notice!(
                "demo simulator admin API {} (faults, rate limits, clock: docs/simulator.md)",
                sim.info().admin_url
            );
        }
        layer = Layer {
            output: layer.output,
            retry_deadline_secs: layer.retry_deadline_secs,
            max_url_length: layer.max_url_length,
            ..demo_layer
        };
        Some(sim)
    } else {
        None
    };
    // Over HTTP the credential may be per user (OAuth): the server resolves what it needs.
    if let Asked::Builtin(Command::Serve(args)) = &asked
        && args.http.is_some()
    {
        let mut args = args.as_ref().clone();
        // The demo is for trying things out: anyone on this machine may call it (it listens on
        // loopback only), and its connection store lives in a temporary directory, not the
        // user's data directory.
        if cli.demo {
            args.open = true;
            args.allow_all_agents = true;
            if args.database_url.is_none() {
                let dir = std::env::temp_dir().join(format!("conflux-demo-{}", std::process::id()));
                std::fs::create_dir_all(&dir)?;
                args.database_url = Some(dir.join("conflux.db").display().to_string());
            }
        }
        return serve::run_http(layer, args).await;
    }
    let resolved = layer
        .resolve()
        .map_err(|e| ClientError::Config(format!("{e:#}")))?;
    let site = match &resolved.credential {
        conflux_client::CredentialConfig::ApiToken { site, .. }
        | conflux_client::CredentialConfig::AccessToken { site, .. } => site.clone(),
        conflux_client::CredentialConfig::OAuth(_) => None,
    };
    if let Asked::Builtin(Command::Serve(args)) = asked {
        return serve::run(resolved.credential, resolved.client, *args).await;
    }
    let client = conflux_client::Client::connect(resolved.credential, resolved.client).await?;
    let out = output::Printer::new(resolved.output);
    let command = match asked {
        Asked::Tool(tool, matches) => {
            let guardrails = serve::guardrails_from_env();
            return tools::run(&client, guardrails, &out, &tool, &matches).await;
        }
        Asked::Builtin(command) => command,
    };
    match command {
        Command::Serve(_) => Ok(()),
        Command::Doctor(args) => doctor::run(&client, site, resolved.output, args).await,
        Command::Audit => audit::run(&client, resolved.output).await,
        Command::Export(args) => {
            let ops = conflux_ops::Ops::new(client, serve::guardrails_from_env());
            sync::export(&ops, &out, &args).await
        }
        Command::Publish(args) => {
            let ops = conflux_ops::Ops::new(client, serve::guardrails_from_env());
            sync::publish(&ops, &out, &args).await
        }
        Command::Sim(_) | Command::Demo | Command::Convert(_) | Command::Setup(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
        command_line().debug_assert();
    }
}
