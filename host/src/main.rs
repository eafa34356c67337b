//! `cineflow`: parse the command line, start logging, dispatch.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cineflow::cli::{Cli, Command, DefaultServe};
use cineflow::{app, component_run, config, db, telemetry};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_logging(cli.log_format);
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(DefaultServe::parse_from(["cineflow"]).serve));
    match dispatch(command).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => {
            let app = app::App::build(config::Config::from_args(&args)).await?;
            // An empty value means unset, as for the other optional settings.
            let addr_file = args
                .addr_file
                .as_deref()
                .filter(|p| !p.as_os_str().is_empty());
            if let Some(path) = addr_file {
                write_addr_file(path, app.local_addr()?, app.metrics_addr()).await?;
            }
            app.run_until(telemetry_shutdown()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate(args) => {
            let (pool, local) = app::open_database(
                &config::DatabaseSource::from_args(&args),
                args.pool_settings(),
            )
            .await?;
            db::migrate(&pool).await?;
            pool.close().await;
            if let Some(local) = local {
                local.stop().await?;
            }
            tracing::info!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Ticket(cineflow::ticket_verify::TicketCommand::Verify(args)) => {
            Ok(cineflow::ticket_verify::run(&args))
        }
        Command::Remote(command) => Ok(cineflow::remote::run(command).await),
        Command::Component(command) => {
            // Exit codes and output of every `component` command: component_run::exit.
            let finished = component_run::execute(command).await;
            finished.emit();
            Ok(ExitCode::from(finished.code))
        }
    }
}

async fn telemetry_shutdown() {
    cineflow::shutdown::signal().await;
}

/// Tells whoever started the process (a supervisor, the tests) where it listens, which they
/// cannot know in advance when they asked for port 0. The file is written beside its final
/// name and renamed into place, so a reader sees either no file or the whole object; it is
/// written after both binds, so its ports are already accepting connections.
async fn write_addr_file(
    path: &Path,
    http: SocketAddr,
    metrics: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let body = serde_json::json!({
        "http": http.to_string(),
        "metrics": metrics.map(|addr| addr.to_string()),
    });
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.partial", std::process::id()));
    tokio::fs::write(&partial, format!("{body}\n"))
        .await
        .with_context(|| format!("writing CINEFLOW_ADDR_FILE {}", path.display()))?;
    tokio::fs::rename(&partial, path)
        .await
        .with_context(|| format!("renaming into CINEFLOW_ADDR_FILE {}", path.display()))?;
    Ok(())
}
