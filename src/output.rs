//! File output that never leaves a half-written file behind.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file written under a temporary name beside its destination and renamed over it by
/// [`commit`](Self::commit). Dropped without a commit (an error, a panic), the temporary file is
/// removed and the destination is untouched.
pub struct AtomicOutput {
    temporary: NamedTempFile,
    path: PathBuf,
}

impl AtomicOutput {
    pub fn create(path: &Path) -> io::Result<Self> {
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let temporary = tempfile::Builder::new()
            .prefix(".crmnet-partial-")
            .tempfile_in(directory)?;
        Ok(Self {
            temporary,
            path: path.to_path_buf(),
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.temporary.as_file_mut()
    }

    pub fn commit(self) -> io::Result<()> {
        self.temporary.as_file().sync_all()?;
        self.temporary.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}
