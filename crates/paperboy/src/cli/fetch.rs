//! `paperboy fetch ID...`

use std::process::ExitCode;

use anyhow::bail;

use arxiv::VersionedId;

use crate::app::App;
use crate::config::Config;
use crate::ingest::fetch::fetch_papers;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// arXiv ids (2405.15738, 2405.15738v2, hep-th/9901001) or arxiv.org abs/pdf URLs
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
}

/// Exit 0 when every paper was found, 2 when some were not, 1 on an error.
pub async fn run(config: Config, args: Args) -> anyhow::Result<ExitCode> {
    // Every id is checked before anything is sent: a bad one stops the command with no request.
    let mut ids = Vec::with_capacity(args.ids.len());
    let mut bad = Vec::new();
    for input in &args.ids {
        match VersionedId::parse_lenient(input) {
            Ok(id) => ids.push(id),
            Err(e) => bad.push(e.to_string()),
        }
    }
    if !bad.is_empty() {
        bail!("{}", bad.join("; "));
    }
    // arXiv can take its time: say what is being waited for before the request goes.
    report!("asking {} for {} paper(s)", config.arxiv.api_url, ids.len());
    let app = App::build(config).await?;
    let report = fetch_papers(&app.store, &app.arxiv.api, &ids).await?;
    for paper in &report.papers {
        let version = paper
            .latest_version()
            .map(|v| format!("v{v}"))
            .unwrap_or_default();
        output!("{}{version}\t{}\n", paper.id, paper.title)?;
    }
    for id in &report.missing {
        report!("paperboy: {id}: not found on arXiv");
    }
    let c = report.counts;
    report!(
        "fetched {} paper(s): {} added, {} updated, {} unchanged, {} not found",
        report.papers.len(),
        c.added,
        c.updated,
        c.unchanged,
        report.missing.len()
    );
    Ok(if report.missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
