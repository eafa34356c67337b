//! `cineflow`: parse the command line, start logging, dispatch.

use std::process::ExitCode;

use cineflow::cli::{Cli, Command, ComponentCommand, DefaultServe};
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
        Command::Component(ComponentCommand::Run(args)) => {
            let (report, ok) = component_run::run(&args).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

async fn telemetry_shutdown() {
    cineflow::shutdown::signal().await;
}
