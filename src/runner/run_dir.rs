//! Run folders: `reports/<workload-name>/<timestamp>/` with a `latest` link beside them, or a
//! folder the user names with `--out`. A run never writes into a folder that already holds a
//! history: nothing a user kept is overwritten.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The files of one run.
#[derive(Clone, Debug)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Creates `root/<name>/<timestamp>/` and points `root/<name>/latest` at it.
    pub fn create_under(root: &Path, name: &str) -> io::Result<RunDir> {
        let parent = root.join(name);
        std::fs::create_dir_all(&parent)?;
        let stamp = timestamp(SystemTime::now());
        let mut path = parent.join(&stamp);
        let mut n = 1;
        while path.exists() {
            n += 1;
            path = parent.join(format!("{stamp}-{n}"));
        }
        std::fs::create_dir(&path)?;
        let dir = RunDir { path };
        dir.link_latest(&parent)?;
        Ok(dir)
    }

    /// Uses `path` as the run folder, creating it; refuses one that already holds a history.
    pub fn create_at(path: &Path) -> io::Result<RunDir> {
        std::fs::create_dir_all(path)?;
        let dir = RunDir {
            path: path.to_path_buf(),
        };
        if dir.history().exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} already holds a history; choose an empty folder so nothing is overwritten",
                    path.display()
                ),
            ));
        }
        Ok(dir)
    }

    fn link_latest(&self, parent: &Path) -> io::Result<()> {
        let latest = parent.join("latest");
        if latest.is_symlink() {
            std::fs::remove_file(&latest)?;
        } else if latest.exists() {
            return Ok(()); // something of the user's: leave it alone
        }
        let target = self.path.file_name().expect("a run folder has a name");
        std::os::unix::fs::symlink(target, latest)
    }

    pub fn history(&self) -> PathBuf {
        self.path.join("history.jsonl")
    }
    pub fn results(&self) -> PathBuf {
        self.path.join("results.json")
    }
    pub fn workload(&self) -> PathBuf {
        self.path.join("workload.toml")
    }
    pub fn log(&self) -> PathBuf {
        self.path.join("run.log")
    }
}

/// `2026-11-30T02-40-12Z`: RFC 3339 in UTC with `-` for `:`, safe in every file system and in
/// CI artifact names.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace(':', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_folders_get_a_latest_link_and_never_collide() {
        let root = tempfile::tempdir().unwrap();
        let a = RunDir::create_under(root.path(), "w").unwrap();
        let b = RunDir::create_under(root.path(), "w").unwrap();
        assert_ne!(a.path, b.path);
        let latest = std::fs::read_link(root.path().join("w/latest")).unwrap();
        assert_eq!(latest, b.path.file_name().unwrap());
    }

    #[test]
    fn an_out_folder_with_a_history_is_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("history.jsonl"), "x").unwrap();
        let err = RunDir::create_at(root.path()).unwrap_err();
        assert!(err.to_string().contains("already holds a history"));
    }
}
