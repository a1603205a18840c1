//! File output that never leaves a half-written file behind.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writing `path` failed; names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot write: {source}")]
pub struct OutputError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Why the content could not be produced: the writer failed, or `fill` gave up with its own error.
pub enum FillError<E> {
    Io(io::Error),
    Fill(E),
}

impl<E> From<io::Error> for FillError<E> {
    fn from(error: io::Error) -> Self {
        FillError::Io(error)
    }
}

/// Writes `path` through `fill` under a temporary name beside it, renamed over `path` only when
/// everything succeeded. On any error (or a panic) the temporary file is removed and `path` is
/// left as it was. I/O errors come back as [`OutputError`] naming `path`.
pub fn write_atomically<T, E: From<OutputError>>(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&mut File>) -> Result<T, FillError<E>>,
) -> Result<T, E> {
    let named = |source: io::Error| OutputError {
        path: path.display().to_string(),
        source,
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".crmnet-partial-")
        .tempfile_in(directory)
        .map_err(named)?;
    let value = {
        let mut writer = BufWriter::new(temporary.as_file_mut());
        let value = fill(&mut writer).map_err(|error| match error {
            FillError::Io(source) => E::from(named(source)),
            FillError::Fill(error) => error,
        })?;
        writer.flush().map_err(named)?;
        value
    };
    // tempfile creates owner-only files; outputs are ordinary files for others to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let readable = std::fs::Permissions::from_mode(0o644);
        temporary
            .as_file()
            .set_permissions(readable)
            .map_err(named)?;
    }
    temporary.as_file().sync_all().map_err(named)?;
    temporary.persist(path).map_err(|e| named(e.error))?;
    Ok(value)
}
