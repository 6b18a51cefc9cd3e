//! The server as it runs in production, started from the binary: its peak memory under hostile uploads, and
//! what it leaves in its upload directory when it starts and stops.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{lines, raw_zip, write_template_file, RawEntry};

const PASSWORD: &str = "correct-paard-batterij-nietje";

/// A `taalbudget serve` child process with a finance user, on a free port, and a logged-in client.
struct Server {
    child: Child,
    base: String,
    /// The directory with the database and the uploads; taken by [`Server::stop`].
    dir: Option<tempfile::TempDir>,
    client: reqwest::Client,
}

impl Server {
    fn db(dir: &Path) -> PathBuf {
        dir.join("taalbudget.db")
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().expect("running").path()
    }

    fn uploads(&self) -> Vec<String> {
        uploads_in(self.path())
    }

    /// Starts the server on `dir` (which may hold files from before) and logs in as finance.
    async fn start(dir: tempfile::TempDir) -> Server {
        let bin = env!("CARGO_BIN_EXE_taalbudget");
        let db = Self::db(dir.path());
        if !db.exists() {
            let out = Command::new(bin)
                .arg("--db")
                .arg(&db)
                .args(["user", "add", "--username", "financien", "--role", "finance"])
                .env("TAALBUDGET_PASSWORD", PASSWORD)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(["--listen", "127.0.0.1:0", "--secure-cookies", "false", "serve"])
            .env("TAALBUDGET_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let base = loop {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "the server stopped before it listened");
            if let Some(url) = line.trim().strip_prefix("taalbudget draait op ") {
                break url.trim_end_matches('/').to_string();
            }
        };
        // Keep reading what the server prints, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let server = Server { child, base, dir: Some(dir), client };
        let token = server.csrf("/login").await;
        let r = server
            .client
            .post(server.url("/login"))
            .form(&[("username", "financien"), ("password", PASSWORD), ("_csrf", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login");
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn csrf(&self, page: &str) -> String {
        let body = self.client.get(self.url(page)).send().await.unwrap().text().await.unwrap();
        let at = body.find("name=\"_csrf\" value=\"").expect("a form") + "name=\"_csrf\" value=\"".len();
        body[at..].split('"').next().unwrap().to_string()
    }

    /// Uploads a ledger file; returns the job page.
    async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> String {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", token.to_string())
            .text("sjabloon", "standaard-grootboek")
            .part("bestand", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
        let r = self.client.post(self.url(&format!("/import?_csrf={token}"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 303, "upload of {name}");
        r.headers()["location"].to_str().unwrap().to_string()
    }

    /// Follows a job page until it stops refreshing: (status, body).
    async fn settle(&self, job: &str) -> (u16, String) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(120) {
            let r = self.client.get(self.url(job)).send().await.unwrap();
            if r.headers().get("refresh").is_none() {
                return (r.status().as_u16(), r.text().await.unwrap());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("job {job} never finished");
    }

    /// The server's peak resident memory so far, in kB (Linux VmHWM).
    fn peak_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap()
    }

    /// SIGTERM, as systemd stops the service; waits for the graceful shutdown.
    fn stop(mut self) -> tempfile::TempDir {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "a graceful stop: {status}");
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.dir.take().expect("running")
    }
}

/// The files in the upload directory beside the database in `dir`.
fn uploads_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("uploads")) else { return Vec::new() };
    entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A zip whose entry `big` is a deflate stream made of one compressed block repeated: the block is compressed
/// once and ends with a full flush (byte-aligned, nothing carried over), so a thousand copies are a valid stream
/// of a thousand times the block, made in a moment. The other entries are stored.
fn zip_with_repeated_entry(
    entries: &[(String, Vec<u8>)],
    big: &str,
    block: &[u8],
    copies: usize,
    before: &[u8],
    after: &[u8],
) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let deflate = |data: &[u8], flush: FlushCompress| {
        let mut out = Vec::with_capacity(data.len() + 1024);
        Compress::new(Compression::default(), false).compress_vec(data, &mut out, flush).unwrap();
        out
    };
    let body = deflate(block, FlushCompress::Full);
    let mut packed = deflate(before, FlushCompress::Full);
    for _ in 0..copies {
        packed.extend_from_slice(&body);
    }
    packed.extend(deflate(after, FlushCompress::Finish));
    let mut crc = flate2::Crc::new();
    crc.update(before);
    for _ in 0..copies {
        crc.update(block);
    }
    crc.update(after);
    let size = (before.len() + block.len() * copies + after.len()) as u32;
    let mut raw: Vec<RawEntry> = entries.iter().map(|(name, data)| RawEntry::stored(name, data.clone())).collect();
    raw.push(RawEntry { name: big.to_string(), method: 8, crc: crc.sum(), size, data: packed });
    raw_zip(&raw)
}

/// The bomb: a valid ledger workbook whose sharedStrings.xml unpacks to 1,000 MB (its own strings,
/// then a million more) and compresses about 40 times, so a 25 MB upload passes the zip-bomb check (under
/// 1 GiB, ratio under 200). calamine would hold all of it, and more.
fn shared_strings_bomb(dir: &Path) -> Vec<u8> {
    let file = dir.join("gewoon.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(3));
    let mut entries = common::unzip(&std::fs::read(&file).unwrap());
    let at = entries.iter().position(|(name, _)| name == "xl/sharedStrings.xml").unwrap();
    let sst = String::from_utf8(entries.remove(at).1).unwrap();
    let end = sst.rfind("</sst>").unwrap();
    // One MiB of strings of 30 digits with a random digit every 40 bytes (about 40 times compressible).
    let mut block = Vec::with_capacity(1 << 20);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut n = 0usize;
    while block.len() < (1 << 20) - 64 {
        block.extend_from_slice(b"<si><t>");
        for _ in 0..30 {
            n += 1;
            let digit = if n.is_multiple_of(40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 10) as u8
            } else {
                (n % 10) as u8
            };
            block.push(b'0' + digit);
        }
        block.extend_from_slice(b"</t></si>");
    }
    block.resize(1 << 20, b' ');
    let copies = (1000 << 20) / block.len() - 1;
    let head = &sst.as_bytes()[..end];
    zip_with_repeated_entry(&entries, "xl/sharedStrings.xml", &block, copies, head, b"</sst>")
}

#[tokio::test]
async fn four_concurrent_shared_strings_bombs_keep_the_server_under_300_mb_and_it_answers_normally_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = shared_strings_bomb(dir.path());
    let mb = bomb.len() as f64 / 1e6;
    assert!(mb < 50.0, "within the upload limit: {mb:.1} MB");
    {
        let zip = zip::ZipArchive::new(std::io::Cursor::new(&bomb)).unwrap();
        let i = zip.index_for_name("xl/sharedStrings.xml").unwrap();
        let (size, packed) = {
            let mut zip = zip;
            let e = zip.by_index_raw(i).unwrap();
            (e.size(), e.compressed_size())
        };
        assert!(size > 1_000_000_000 && size < 1 << 30, "unpacks to {size} bytes, under 1 GiB");
        assert!(size / packed < 200, "ratio {}: the zip-bomb check alone lets it through", size / packed);
    }
    let server = Server::start(dir).await;
    let token = server.csrf("/import").await;
    let started = Instant::now();
    let names: Vec<String> = (0..4).map(|i| format!("bom-{i}.xlsx")).collect();
    let up = |i: usize| server.upload(&token, &names[i], bomb.clone());
    let (a, b, c, d) = tokio::join!(up(0), up(1), up(2), up(3));
    for job in [a, b, c, d] {
        let (status, body) = server.settle(&job).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body.contains(
                "De gedeelde tekstentabel (xl/sharedStrings.xml) is 1.000 MB uitgepakt; taalbudget leest per \
                 bestand hooguit 128 MB."
            ),
            "{body}"
        );
    }
    let peak_mb = server.peak_kb() / 1024;
    eprintln!(
        "four {mb:.1} MB shared-strings bombs refused in {:.1} s; server peak memory (VmHWM) {peak_mb} MB",
        started.elapsed().as_secs_f64()
    );
    assert!(peak_mb < 300, "server peak memory {peak_mb} MB");
    assert_eq!(server.uploads(), Vec::<String>::new(), "the refused files are deleted");

    // And the server answers normally: health, and a real ledger checked and imported.
    let health = server.client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let file = server.path().join("goed.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(20));
    let job = server.upload(&token, "goed.xlsx", std::fs::read(&file).unwrap()).await;
    let (status, body) = server.settle(&job).await;
    assert_eq!(status, 200);
    assert!(body.contains("Voorbeeld van de import"), "{body}");
    let r = server
        .client
        .post(server.url(&format!("{job}/bevestigen")))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (status, _) = server.settle(&job).await;
    assert_eq!(status, 303, "the job page now leads to the batch");
}

#[tokio::test]
async fn the_upload_directory_is_swept_at_start_up_and_emptied_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    // What a crash left behind, and a file that is not taalbudget's.
    let uploads = dir.path().join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    std::fs::write(uploads.join("upload-AbC123.part"), b"grootboek van voor de storing").unwrap();
    std::fs::write(uploads.join("upload-AbC123.staging.part"), b"zijn gecontroleerde regels").unwrap();
    std::fs::write(uploads.join("LEESMIJ.txt"), b"van de beheerder").unwrap();
    let server = Server::start(dir).await;
    assert_eq!(server.uploads(), vec!["LEESMIJ.txt".to_string()], "the leftovers are gone at start-up");

    // A preview waiting for a decision keeps its file and its staging database until the server stops.
    let token = server.csrf("/import").await;
    let file = server.path().join("grootboek.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(10));
    let job = server.upload(&token, "grootboek.xlsx", std::fs::read(&file).unwrap()).await;
    assert_eq!(server.settle(&job).await.0, 200);
    assert_eq!(server.uploads().len(), 3, "{:?}", server.uploads());
    let dir = server.stop();
    assert_eq!(uploads_in(dir.path()), vec!["LEESMIJ.txt".to_string()], "no upload outlives the server");
}
