#![allow(clippy::unwrap_used)]
use super::*;
use std::os::unix::fs::PermissionsExt;

fn reader_for(uid: u32, forbidden: &[PathBuf]) -> Option<Arc<Reader>> {
    Some(Arc::new(Reader::new(uid, uid, vec![], forbidden)))
}

fn mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The checks are made on mode bits against a uid that is not the owner's, so they hold
/// whether the test runs as root or not.
#[test]
fn another_users_private_file_is_not_read_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("home");
    std::fs::create_dir(&private).unwrap();
    std::fs::write(private.join("secret"), "s3cret").unwrap();
    std::fs::write(dir.path().join("open"), "hello").unwrap();
    mode(&private, 0o700);
    let stranger = reader_for(4_000_000, &[]);
    as_user(stranger.clone(), || {
        let err = read(&private.join("secret")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
        assert!(metadata(&private.join("secret")).is_err());
        assert!(read_dir(&private).is_err());
        // Positive control: a world-readable file beside it.
        assert_eq!(read_to_string(&dir.path().join("open")).unwrap(), "hello");
    });
    // A readable directory but a file only its owner may read.
    mode(&private, 0o755);
    mode(&private.join("secret"), 0o600);
    as_user(stranger, || {
        assert!(
            metadata(&private.join("secret")).is_ok(),
            "stat needs search only"
        );
        assert!(read(&private.join("secret")).is_err());
        let names: Vec<_> = read_dir(&private)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("secret")]);
    });
    // Its owner reads it.
    let owner = std::fs::metadata(private.join("secret")).unwrap().uid();
    as_user(reader_for(owner, &[]), || {
        assert_eq!(read_to_string(&private.join("secret")).unwrap(), "s3cret");
    });
}

#[test]
fn links_are_followed_as_the_user_may_and_never_into_airlocks_places() {
    let dir = tempfile::tempdir().unwrap();
    let airlock = dir.path().join("airlock-state");
    std::fs::create_dir(&airlock).unwrap();
    std::fs::write(airlock.join("key"), "KEY").unwrap();
    mode(&airlock, 0o755);
    mode(&airlock.join("key"), 0o644);
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::os::unix::fs::symlink(&airlock, mine.join("cfg")).unwrap();
    std::os::unix::fs::symlink("../airlock-state/key", mine.join("rel")).unwrap();
    std::os::unix::fs::symlink("loop", mine.join("loop")).unwrap();
    let owner = std::fs::metadata(&mine).unwrap().uid();
    as_user(reader_for(owner, std::slice::from_ref(&airlock)), || {
        for path in [
            mine.join("cfg/key"),
            mine.join("rel"),
            mine.join("../airlock-state/key"),
        ] {
            let err = read(&path).unwrap_err();
            assert!(err.to_string().contains("Airlock's own"), "{path:?}: {err}");
        }
        assert!(read_dir(&mine.join("cfg")).is_err());
        let err = read(&mine.join("loop")).unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(rustix::io::Errno::LOOP.raw_os_error())
        );
        // The link itself may be looked at; it is only not followed into Airlock's place.
        assert!(symlink_metadata(&mine.join("cfg")).unwrap().is_symlink());
    });
    // Without a reader (user mode), the process's own rights.
    assert_eq!(read_to_string(&mine.join("rel")).unwrap(), "KEY");
}

#[test]
fn repositories_are_read_for_nobody_in_system_mode() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        may_read_repository(dir.path()),
        "user mode: the daemon is the user"
    );
    let owner = std::fs::metadata(dir.path()).unwrap().uid();
    assert!(!as_user(reader_for(owner, &[]), || may_read_repository(
        dir.path()
    )));
}

/// A directory the user owns swapped for a link into a place they may not search, over and
/// over while they are read (review round 15, R15-1): never read, never listed.
#[test]
fn a_directory_swapped_for_a_link_mid_walk_is_never_followed() {
    let base = tempfile::tempdir().unwrap();
    let r = base.path().join("r");
    let secret = base.path().join("secret");
    std::fs::create_dir_all(r.join("d")).unwrap();
    std::fs::create_dir(&secret).unwrap();
    std::fs::write(r.join("d/run.sh"), "DECOY").unwrap();
    std::fs::write(secret.join("run.sh"), "SECRET").unwrap();
    std::fs::write(secret.join("private-plan.md"), "x").unwrap();
    mode(&secret, 0o700);
    mode(&secret.join("run.sh"), 0o644);
    for p in [base.path(), &r, &r.join("d")] {
        mode(p, 0o755);
    }
    std::os::unix::fs::symlink(&secret, r.join("l")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (d, l, stop) = (r.join("d"), r.join("l"), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = rustix::fs::renameat_with(
                    rustix::fs::CWD,
                    &d,
                    rustix::fs::CWD,
                    &l,
                    rustix::fs::RenameFlags::EXCHANGE,
                );
            }
        })
    };
    let stranger = reader_for(4_000_000, &[]);
    let (mut decoys, mut listed) = (0, 0);
    as_user(stranger, || {
        for _ in 0..3000 {
            if let Ok(text) = read_to_string(&r.join("d/run.sh")) {
                assert_eq!(text, "DECOY", "read through a swapped-in link");
                decoys += 1;
            }
            if let Ok(names) = read_dir(&r.join("d")) {
                for name in names.flatten() {
                    assert_ne!(name.file_name(), "private-plan.md", "listed");
                }
                listed += 1;
            }
        }
    });
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(
        decoys > 0 && listed > 0,
        "positive control: the decoy was read"
    );
}

/// An access ACL that closes a file to one user while its mode bits would let "others" read
/// it (review round 16, R16-1): not read for that user, nor for anyone but its owner.
#[test]
fn a_file_or_directory_with_an_access_acl_is_not_read_for_others() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::write(open.join("script.sh"), "ACL_MARKER").unwrap();
    mode(&open, 0o755);
    mode(&open.join("script.sh"), 0o644);
    let stranger = 4_000_000u32;
    let read_by_stranger =
        |path: &Path| as_user(reader_for(stranger, &[]), || read_to_string(path)).is_ok();
    assert!(
        read_by_stranger(&open.join("script.sh")),
        "positive control"
    );
    // user::rw-, user:STRANGER:---, group::r--, mask::r--, other::r-- (acl_ea format v2).
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 0, stranger),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 4, u32::MAX),
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    let set = |path: &Path| {
        rustix::fs::setxattr(
            path,
            "system.posix_acl_access",
            &acl,
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap_or_else(|e| panic!("this test needs a filesystem with POSIX ACLs: {e}"))
    };
    set(&open.join("script.sh"));
    assert!(!read_by_stranger(&open.join("script.sh")), "the file's ACL");
    std::fs::write(open.join("other.sh"), "x").unwrap();
    mode(&open.join("other.sh"), 0o644);
    assert!(read_by_stranger(&open.join("other.sh")));
    set(&open);
    assert!(
        !read_by_stranger(&open.join("other.sh")),
        "the directory's ACL"
    );
    // Its owner still reads it.
    let owner = std::fs::metadata(&open).unwrap().uid();
    as_user(reader_for(owner, &[]), || {
        assert_eq!(
            read_to_string(&open.join("script.sh")).unwrap(),
            "ACL_MARKER"
        );
    });
}

/// A request built to make the daemon walk without end is cut off (review round 16, R16-2):
/// a path of more components than any real one, and more look-ups in one request than the
/// budget, both refused; a fresh request starts with a fresh budget.
#[test]
fn walks_and_requests_have_a_budget() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("x")).unwrap();
    std::fs::write(dir.path().join("f"), "F").unwrap();
    let owner = std::fs::metadata(dir.path()).unwrap().uid();
    let padded = |n: usize| dir.path().join("x/../".repeat(n)).join("f");
    as_user(reader_for(owner, &[]), || {
        let err = read(&padded(3_000)).unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(rustix::io::Errno::NAMETOOLONG.raw_os_error())
        );
    });
    as_user(reader_for(owner, &[]), || {
        let mut refused = None;
        for _ in 0..40 {
            if let Err(e) = read(&padded(1_500)) {
                refused = Some(e);
                break;
            }
        }
        let err = refused.expect("the budget ran out");
        assert!(err.to_string().contains("more file look-ups"), "{err}");
    });
    // The next request is not charged for the last one's.
    as_user(reader_for(owner, &[]), || {
        assert_eq!(read_to_string(&padded(10)).unwrap(), "F");
    });
}

#[test]
fn devices_and_fifos_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let owner = std::fs::metadata(dir.path()).unwrap().uid();
    for reader in [None, reader_for(owner, &[])] {
        as_user(reader, || {
            for path in [fifo.as_path(), Path::new("/dev/zero")] {
                let err = read(path).unwrap_err();
                assert!(
                    err.to_string().contains("not a regular file"),
                    "{path:?}: {err}"
                );
            }
        });
    }
}

#[test]
fn relative_paths_are_refused() {
    as_user(reader_for(0, &[]), || {
        assert_eq!(
            read(Path::new("x.sh")).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    });
}

#[test]
fn with_no_files_nothing_is_found_and_the_scope_ends_with_it() {
    assert!(!sees_no_files());
    let (found, read, listed, seen) = with_no_files(|| {
        (
            exists(Path::new("/")),
            read(Path::new("/etc/passwd")).map_err(|e| e.kind()),
            read_dir(Path::new("/")).is_ok(),
            sees_no_files(),
        )
    });
    assert!(!found);
    assert_eq!(read, Err(io::ErrorKind::NotFound));
    assert!(!listed);
    assert!(seen);
    // Outside it (and after a panic inside it) the thread reads again.
    assert!(!sees_no_files());
    let _ = std::panic::catch_unwind(|| with_no_files(|| panic!("inside")));
    assert!(!sees_no_files());
    assert!(exists(Path::new("/")));
}
