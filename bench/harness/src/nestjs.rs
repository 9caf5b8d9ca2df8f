//! The peer comparison: how long a minimal NestJS 11 application (bench/nestjs/main.js,
//! installed by scripts/bench.sh into .local/bench/nestjs) takes from process start to its
//! first HTTP answer, which a Node.js Lambda running the NestJS services' framework would pay on every
//! cold start.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

use crate::Error;

const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The line main.js prints once `app.listen` has resolved.
const READY_LINE: &str = "bench-ready";

pub struct NestApp {
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl NestApp {
    /// Starts the application, waits for it to say it listens, asks `GET /` and returns the
    /// time from process start to the answer; then stops it.
    pub async fn time_start(&self) -> Result<Duration, Error> {
        let port = free_port()?;
        let log = crate::instance::log_file(&self.log)?;
        let mut command = Command::new("node");
        command
            .arg("main.js")
            .current_dir(&self.dir)
            .env("PORT", port.to_string())
            .env("NODE_ENV", "production")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start node: {error}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let answered = tokio::time::timeout(START_TIMEOUT, async {
            let mut lines = BufReader::new(stdout).lines();
            loop {
                match lines.next_line().await? {
                    Some(line) if line.contains(READY_LINE) => break,
                    Some(_) => {}
                    None => {
                        return Err::<_, Error>("the NestJS app exited before listening".into());
                    }
                }
            }
            let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            if !answer.starts_with(b"HTTP/1.1 200") {
                return Err(format!(
                    "the NestJS app answered {:?}",
                    String::from_utf8_lossy(&answer[..answer.len().min(80)])
                )
                .into());
            }
            Ok(spawned.elapsed())
        })
        .await;
        let _ = child.start_kill();
        let _ = child.wait().await;
        match answered {
            Ok(result) => result,
            Err(_) => Err(format!(
                "the NestJS app did not answer within {START_TIMEOUT:?}; see {}",
                self.log.display()
            )
            .into()),
        }
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
