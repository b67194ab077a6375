//! The HTML report: one self-contained file (nothing loaded from the network
//! or disk) with the summary, the sortable tables and a timeline chart per
//! call, checked as text and then rendered in a real headless Chromium: the
//! script runs, and the screenshot shows the chart (its line and band colours).
//! `.ci/run` installs Chromium; elsewhere set `CALLTONE_CHROMIUM` or put
//! `chromium` on the PATH.

mod common;

use common::cli::assert_success;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

const RESULTS: &str = "tests/reports/batch.jsonl";
const RULES: &str = "tests/reports/qa.toml";

fn write_report(dir: &Path) -> PathBuf {
    let html = dir.join("report.html");
    let out = Command::cargo_bin("calltone")
        .unwrap()
        .args(["report", RESULTS, "--rules", RULES, "--html"])
        .arg(&html)
        .output()
        .unwrap();
    assert_success(&out);
    html
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CALLTONE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

fn headless(browser: &Path, args: &[&str], page: &Path) -> std::process::Output {
    Process::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,3200",
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium")
}

#[test]
fn the_report_is_one_self_contained_file_with_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(write_report(dir.path())).unwrap();
    for external in [
        "src=",
        "url(",
        "@import",
        "<link",
        "href=\"http",
        "href='http",
        "//cdn",
    ] {
        assert!(
            !html.contains(external),
            "loads something from outside: {external}"
        );
    }
    for part in [
        "id=\"summary\"",
        "<table id=\"calls\" class=\"sortable\"",
        "<table id=\"agents\"",
        "<table id=\"triggers\"",
        "<svg class=\"timeline\"",
        "<polyline",
        "class=\"band\"",
        "<script>",
    ] {
        assert!(html.contains(part), "missing {part}");
    }
    // Every call has its timeline, and moments carry their evidence on hover.
    for id in [
        "ends-badly",
        "irate-then-recovered",
        "chat-refund-2291",
        "88120045",
    ] {
        assert!(html.contains(&format!("<h3>{id} ")), "no timeline for {id}");
    }
    assert!(
        html.contains("repeat_contact “third time I&#x27;m calling”"),
        "evidence on the band"
    );
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), 10);
}

#[test]
fn chromium_renders_the_report_and_draws_the_charts() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (.ci/run installs it)"
        );
        calltone::say!(
            "the HTML report in a browser: skipped, no Chromium here (install `chromium` or set CALLTONE_CHROMIUM)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = write_report(dir.path());

    let dom = headless(&browser, &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the inline script did not run"
    );
    assert!(dom.contains("<polyline"), "{}", &dom[..dom.len().min(400)]);

    let shot = dir.path().join("shot.png");
    let out = headless(
        &browser,
        &[&format!("--screenshot={}", shot.display())],
        &page,
    );
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let near = |p: &[u8], rgb: [u8; 3], tol: i32| {
        (0..3).all(|i| (p[i] as i32 - rgb[i] as i32).abs() <= tol)
    };
    let not_background = pixels
        .iter()
        .filter(|p| !near(p, [250, 250, 250], 6) && !near(p, [255, 255, 255], 6))
        .count();
    assert!(
        not_background * 20 > pixels.len(),
        "the page is nearly blank: {not_background} of {} pixels",
        pixels.len()
    );
    // The customer line (#1565c0) and an irate band (#c62828 at 22% on white) are drawn.
    let customer = pixels
        .iter()
        .filter(|p| near(p, [0x15, 0x65, 0xc0], 40))
        .count();
    let band = pixels
        .iter()
        .filter(|p| near(p, [0xf1, 0xc9, 0xc9], 12))
        .count();
    assert!(customer > 200, "no customer line pixels ({customer})");
    assert!(band > 2000, "no irate band pixels ({band})");
}
