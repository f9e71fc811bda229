//! The HTML pages over real HTTP: views, navigation, escaping and friendly errors.

use crate::support::{TestApp, fixtures};

#[tokio::test]
async fn home_shows_the_latest_day_as_cards() {
    let t = TestApp::spawn().await;
    let (status, html) = t.get_text("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Aug 21, 2026"), "home shows the latest day");
    assert!(html.contains(r#"class="paper-card""#));
    assert!(
        html.contains(r#"href="/papers/date/2026-08-20""#),
        "previous day link"
    );
}

#[tokio::test]
async fn every_view_renders_with_both_sorts() {
    let t = TestApp::spawn().await;
    for path in [
        "/papers/date/2026-08-21",
        "/papers/date/2026-08-21?sort=new",
        "/papers/week/2026-W34",
        "/papers/week/2026-W34?sort=new",
        "/papers/month/2026-08",
        "/papers/month/2024-12",
        "/trending",
        "/about",
        "/papers/date/2026-08-22",
    ] {
        let (status, html) = t.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("</html>"), "{path}");
    }
    let (_, html) = t.get_text("/trending").await;
    assert!(html.contains("hot 0."), "trending shows scores");
    let (_, html) = t.get_text("/about").await;
    assert!(html.contains("log10(max(2, upvotes + 2))"));
}

#[tokio::test]
async fn paper_page_has_links_bibtex_and_tex_markup() {
    let t = TestApp::spawn_with(&[fixtures().join("import/papers-sample.jsonl")]).await;
    let (status, html) = t.get_text("/papers/hep-th/9108002").await;
    assert_eq!(status, 200);
    assert!(html.contains("https://arxiv.org/abs/hep-th/9108002"));
    assert!(html.contains("@misc{"));
    assert!(html.contains(r#"class="paper-title tex""#));
    let res = t.get("/papers/2405.15738v2").await;
    assert_eq!(res.status().as_u16(), 308);
    assert_eq!(res.headers()["location"], "/papers/2405.15738");
}

#[tokio::test]
async fn a_submitters_name_leads_to_the_papers_they_put_on_the_feed() {
    let t = TestApp::spawn().await;
    let (_, home) = t.get_text("/").await;
    assert!(
        home.contains(r#"Submitted by <a href="/members/taesiri">"#),
        "cards link the submitter's page"
    );
    let (status, html) = t.get_text("/members/taesiri").await;
    assert_eq!(status, 200);
    assert!(html.contains("Papers submitted by"), "{html}");
    assert!(html.contains("@taesiri"));
    let (_, api) = t
        .get_json("/api/daily_papers?submitter=taesiri&limit=100")
        .await;
    let ids: Vec<&str> = api
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["paper"]["id"].as_str().unwrap())
        .collect();
    assert!(!ids.is_empty());
    assert_eq!(
        html.matches(r#"class="paper-card""#).count(),
        ids.len(),
        "one card per paper they submitted"
    );
    for id in ids {
        assert!(html.contains(&format!(r#"href="/papers/{id}""#)), "{id}");
    }
    let (status, html) = t.get_text("/members/taesiri?p=-1").await;
    assert_eq!(status, 400);
    assert!(html.contains("is not a page number"), "{html}");
    let (status, html) = t.get_text("/members/nobody-by-this-name").await;
    assert_eq!(status, 404);
    assert!(html.contains(r#"class="error-page""#));
    assert!(html.contains("No member is called"), "{html}");
}

#[tokio::test]
async fn a_papers_categories_link_to_a_search_of_each() {
    let t = TestApp::spawn_with(&[fixtures().join("import/papers-sample.jsonl")]).await;
    let (_, html) = t.get_text("/papers/hep-th/9108002").await;
    assert!(
        html.contains(r#"<a class="chip cat" href="/search?q=cat:hep-th""#),
        "{html}"
    );
}

#[tokio::test]
async fn bad_urls_get_friendly_pages() {
    let t = TestApp::spawn().await;
    for (path, status) in [
        ("/papers/date/2025-13-40", 400),
        ("/papers/date/2025-02-30", 400),
        ("/papers/week/2026-W60", 400),
        ("/papers/month/2026-00", 400),
        ("/papers/date/2026-08-21?sort=best", 400),
        ("/papers/date/2026-08-21?p=-1", 400),
        ("/papers/2608.99999", 404),
        ("/papers/garbage", 404),
        ("/nothing/here", 404),
    ] {
        let (got, html) = t.get_text(path).await;
        assert_eq!(got, status, "{path}");
        assert!(html.contains(r#"class="error-page""#), "{path}");
        assert!(html.contains("Back to today"), "{path}");
    }
}

#[tokio::test]
async fn pages_carry_security_headers_and_assets_are_embedded() {
    let t = TestApp::spawn().await;
    let res = t.get("/").await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    for asset in [
        "/static/css/app.css",
        "/static/js/app.js",
        "/static/vendor/katex/katex.min.js",
        "/static/vendor/katex/katex.min.css",
        "/static/vendor/katex/auto-render.min.js",
        "/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2",
        "/static/vendor/inter/inter-latin-wght-normal.woff2",
    ] {
        let res = t.get(asset).await;
        assert_eq!(res.status().as_u16(), 200, "{asset}");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        let again = t
            .client
            .get(format!("{}{asset}", t.base_url))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{asset}");
    }
}

#[tokio::test]
async fn hostile_text_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.jsonl");
    std::fs::write(
        &path,
        r#"{"id": "2608.00001", "title": "<script>window.__xss=1</script> $x<y$", "abstract": "<img src=x onerror=alert(1)> & \"quotes\"", "authors": ["<b>Bold</b>"], "hf_daily_date": "2026-08-21"}"#,
    )
    .unwrap();
    let t = TestApp::spawn_with(&[path]).await;
    for page in ["/", "/papers/2608.00001"] {
        let (_, html) = t.get_text(page).await;
        assert!(!html.contains("<script>window"), "{page}");
        assert!(!html.contains("<img src=x"), "{page}");
        assert!(!html.contains("<b>Bold</b>"), "{page}");
        assert!(html.contains("&#60;script&#62;"), "{page}");
    }
}
