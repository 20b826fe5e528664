//! The file store: `<data dir>/authids/<account>`, directory 0700, files 0600. Wider
//! permissions are refused rather than silently fixed: they mean someone else may already have
//! read the authid.

use super::StoreError;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("authids")
}

pub(super) fn get(data_dir: &Path, account: &str) -> Result<Option<Zeroizing<String>>, StoreError> {
    let dir = dir(data_dir);
    let path = dir.join(account);
    if !path.exists() {
        return Ok(None);
    }
    check_mode(&dir, 0o700)?;
    check_mode(&path, 0o600)?;
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(io(&path))?);
    Ok(Some(Zeroizing::new(text.trim().to_owned())))
}

pub(super) fn set(data_dir: &Path, account: &str, authid: &str) -> Result<(), StoreError> {
    let dir = dir(data_dir);
    create_private_dir(&dir)?;
    check_mode(&dir, 0o700)?;
    let path = dir.join(account);
    let temporary = dir.join(format!(".{account}.tmp"));
    let _ = std::fs::remove_file(&temporary);

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).map_err(io(&temporary))?;
    file.write_all(authid.as_bytes()).map_err(io(&temporary))?;
    file.sync_all().map_err(io(&temporary))?;
    std::fs::rename(&temporary, &path).map_err(io(&path))
}

pub(super) fn delete(data_dir: &Path, account: &str) -> Result<(), StoreError> {
    let path = dir(data_dir).join(account);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&path)(e)),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io(dir))
}

/// Refuses `path` when group or others have any access beyond `wanted`.
fn check_mode(path: &Path, wanted: u32) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            let path = path.display().to_string();
            return Err(StoreError::TooOpen { path, mode, wanted });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, wanted);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn stores_privately_and_refuses_wide_permissions() {
        let data = tempfile::tempdir().unwrap();
        set(data.path(), "work", "the-authid").unwrap();
        let file = dir(data.path()).join("work");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            get(data.path(), "work").unwrap().unwrap().as_str(),
            "the-authid"
        );

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = get(data.path(), "work").unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(dir(data.path()), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(
            get(data.path(), "work"),
            Err(StoreError::TooOpen { .. })
        ));

        std::fs::set_permissions(dir(data.path()), std::fs::Permissions::from_mode(0o700)).unwrap();
        delete(data.path(), "work").unwrap();
        delete(data.path(), "work").unwrap();
        assert!(get(data.path(), "work").unwrap().is_none());
    }
}
