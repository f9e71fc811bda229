//! Integration tests: the real server on a random loopback port, real SQLite files in temp
//! directories, the real `paperboy` binary, the real `huggingface_hub` client and headless
//! Chromium.

mod api;
mod arxiv_client;
mod browser;
mod cli;
mod email;
mod embed;
mod fake_arxiv;
mod feeds;
mod feeds_private;
mod feeds_search;
mod harvest;
mod harvest_cli;
mod hf_client;
mod large_data;
mod members;
mod members_browser;
mod openapi;
mod page_cache;
mod pages;
mod search;
mod snapshot;
mod snapshot_format;
mod support;
mod tidy;
