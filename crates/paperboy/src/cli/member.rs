//! `paperboy member add EMAIL [--admin]`, `paperboy token create EMAIL` and
//! `paperboy admin grant EMAIL`: member accounts for operators and outside checks.

use std::process::ExitCode;

use anyhow::{Context as _, anyhow};

use crate::config::Config;
use crate::domain::subscription::EmailAddress;
use crate::store::{Store, StoreError};

#[derive(Debug, clap::Args)]
pub struct MemberArgs {
    #[command(subcommand)]
    command: MemberCommand,
}

#[derive(Debug, clap::Subcommand)]
enum MemberCommand {
    /// Create a member (or find the existing one) and print their username.
    Add {
        /// The member's email address (their login).
        email: String,
        /// Make the member an admin.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create a personal API token for a member (created if new) and print it on stdout.
    Create {
        /// The member's email address.
        email: String,
        /// A name to recognise the token by in settings.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// Make an existing member an admin.
    Grant {
        /// The member's email address.
        email: String,
    },
}

fn email(input: &str) -> anyhow::Result<EmailAddress> {
    EmailAddress::parse(input).map_err(|e| anyhow!("{e}"))
}

async fn store(config: &Config) -> anyhow::Result<Store> {
    Store::open_sqlite(&config.database_path())
        .await
        .context("opening the database")
}

pub async fn run_member(config: Config, args: MemberArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        MemberCommand::Add { email: e, admin } => {
            let email = email(&e)?;
            let store = store(&config).await?;
            let member = store
                .ensure_member(email.as_str(), admin, chrono::Utc::now())
                .await?;
            output!("{}\n", member.username)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_token(config: Config, args: TokenArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TokenCommand::Create { email: e, name } => {
            let email = email(&e)?;
            let name = crate::domain::member::parse_token_name(&name)
                .map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let store = store(&config).await?;
            let now = chrono::Utc::now();
            let member = store.ensure_member(email.as_str(), false, now).await?;
            if member.banned {
                anyhow::bail!("{} is banned", email.as_str());
            }
            let token = crate::web::account::create_token(&store, &member, &name, now).await?;
            output!("{token}\n")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_admin(config: Config, args: AdminArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AdminCommand::Grant { email: e } => {
            let email = email(&e)?;
            let store = store(&config).await?;
            match store.grant_admin(email.as_str()).await {
                Ok(member) => output!("{} is an admin\n", member.username)?,
                Err(StoreError::NotFound) => anyhow::bail!(
                    "no member has the address {}; add one with `paperboy member add`",
                    email.as_str()
                ),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
