//! A disk cache of function results, like joblib's `Memory`: the result of a function is
//! stored as a `.npy` file (numpy can `np.load` it) under a key made from the function's name,
//! a version string and a content hash of its array arguments.
//!
//! * Keys are layout-independent: a C-order array and its Fortran-order copy hash the same
//!   (values are hashed in logical order, with dtype and shape).
//! * Writes are atomic: the file is written under a temporary name and renamed, so a reader in
//!   another thread or process never sees a half-written file.
//! * Every entry has a checksum beside it (`.sum`); a truncated or corrupted entry is detected,
//!   counted in [`Stats::corrupt`], recomputed and rewritten — never returned.
//! * An optional size limit evicts the least recently used entries (a hit refreshes an entry's
//!   modification time).
//!
//! ```
//! use parla::memory::Memory;
//! let dir = std::env::temp_dir().join(format!("parla-doc-{}", std::process::id()));
//! let mem = Memory::new(&dir)?;
//! let a = ndarray::array![[4.0, 2.0], [2.0, 5.0]];
//! let l1 = mem.call("cholesky", "1").arg(&a).run(|| parla::cholesky(&a))?; // computed
//! let l2 = mem.call("cholesky", "1").arg(&a).run(|| parla::cholesky(&a))?; // read back
//! assert_eq!(l1, l2);
//! assert_eq!((mem.stats().misses, mem.stats().hits), (1, 1));
//! mem.clear()?;
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), parla::Error>(())
//! ```

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use ndarray::{Array, ArrayBase, Data, Dimension};
use ndarray_npy::{ReadNpyExt, ReadableElement, WritableElement, WriteNpyExt};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// Counters of what the cache did since it was opened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Results read back from disk.
    pub hits: u64,
    /// Results computed (no valid entry).
    pub misses: u64,
    /// Entries found truncated or corrupted (then recomputed).
    pub corrupt: u64,
    /// Results that could not be written (they were still returned).
    pub write_errors: u64,
}

/// A cache directory. Cheap to share between threads (`&Memory` is enough).
#[derive(Debug)]
pub struct Memory {
    dir: PathBuf,
    limit: Option<u64>,
    hits: AtomicU64,
    misses: AtomicU64,
    corrupt: AtomicU64,
    write_errors: AtomicU64,
}

fn io_err(op: &'static str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        op,
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Prefix of every file parla writes into a cache directory (`clear` removes only these).
const PREFIX: &str = "parla-";

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}-{:?}-{n}",
        std::process::id(),
        std::thread::current().id()
    )
    .replace(['(', ')'], "")
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", unique_suffix()));
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

impl Memory {
    /// Opens (and creates if needed) a cache directory.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be created.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io_err("Memory::new", &dir, e))?;
        Ok(Memory {
            dir,
            limit: None,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            corrupt: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
        })
    }

    /// The same cache, keeping at most `bytes` on disk: after each write the least recently
    /// used entries are removed until the total fits (the entry just written is kept).
    pub fn with_size_limit(mut self, bytes: u64) -> Self {
        self.limit = Some(bytes);
        self
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the cache did so far.
    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            corrupt: self.corrupt.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
        }
    }

    /// Starts a cached call of the function `name` at `version` (change the version when the
    /// function's code changes, to invalidate old results). Add the arguments with
    /// [`Call::arg`] / [`Call::arg_str`], then [`Call::run`].
    pub fn call(&self, name: &str, version: &str) -> Call<'_> {
        let mut hasher = Xxh3::new();
        for part in [name, version] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let name = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        Call {
            mem: self,
            name,
            hasher,
        }
    }

    fn entries(&self) -> Result<Vec<(PathBuf, u64, SystemTime)>> {
        let rd = fs::read_dir(&self.dir).map_err(|e| io_err("Memory", &self.dir, e))?;
        let mut out = Vec::new();
        for entry in rd.flatten() {
            let path = entry.path();
            let ours = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".npy"));
            if !ours {
                continue;
            }
            if let Ok(meta) = entry.metadata() {
                let sum_len = fs::metadata(path.with_extension("sum")).map_or(0, |m| m.len());
                out.push((
                    path,
                    meta.len() + sum_len,
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ));
            }
        }
        Ok(out)
    }

    /// Bytes the cache's entries take on disk.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read.
    pub fn size_bytes(&self) -> Result<u64> {
        Ok(self.entries()?.iter().map(|e| e.1).sum())
    }

    /// Removes every entry parla wrote in the directory (other files are left alone).
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read or a file cannot be removed.
    pub fn clear(&self) -> Result<()> {
        let rd = fs::read_dir(&self.dir).map_err(|e| io_err("Memory::clear", &self.dir, e))?;
        for entry in rd.flatten() {
            let path = entry.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX))
            {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err("Memory::clear", &path, e)),
                }
            }
        }
        Ok(())
    }

    fn evict(&self, keep: &Path) -> Result<()> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let mut entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort_by_key(|e| e.2);
        for (path, size, _) in entries {
            if total <= limit {
                break;
            }
            if path == keep {
                continue;
            }
            let _ = fs::remove_file(&path);
            let _ = fs::remove_file(path.with_extension("sum"));
            total = total.saturating_sub(size);
        }
        Ok(())
    }

    /// Reads and verifies an entry; `Err(true)` = present but unusable, `Err(false)` = absent.
    fn load<T: ReadableElement, D: Dimension>(
        npy: &Path,
    ) -> std::result::Result<Array<T, D>, bool> {
        let bytes = fs::read(npy).map_err(|e| e.kind() != std::io::ErrorKind::NotFound)?;
        let sum = fs::read_to_string(npy.with_extension("sum")).map_err(|_| true)?;
        let mut parts = sum.split_whitespace();
        let (Some(hash), Some(len)) = (parts.next(), parts.next()) else {
            return Err(true);
        };
        let expected = (
            u128::from_str_radix(hash, 16).ok(),
            len.parse::<usize>().ok(),
        );
        if expected != (Some(xxh3_128(&bytes)), Some(bytes.len())) {
            return Err(true);
        }
        Array::<T, D>::read_npy(Cursor::new(bytes)).map_err(|_| true)
    }
}

/// One cached call being keyed: see [`Memory::call`].
pub struct Call<'a> {
    mem: &'a Memory,
    name: String,
    hasher: Xxh3,
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("name", &self.name)
            .field("key", &self.key())
            .finish()
    }
}

impl Call<'_> {
    /// Adds an array argument to the key: its dtype, shape and values in logical (row-major)
    /// order, so the memory layout does not matter.
    pub fn arg<T: Scalar, S: Data<Elem = T>, D: Dimension>(mut self, a: &ArrayBase<S, D>) -> Self {
        self.hasher.update(b"array");
        self.hasher.update(T::DTYPE.as_bytes());
        self.hasher.update(&(a.ndim() as u64).to_le_bytes());
        for &d in a.shape() {
            self.hasher.update(&(d as u64).to_le_bytes());
        }
        // Values are hashed as little-endian f64, element by element in logical order.
        if let (Some(slice), true) = (
            a.as_slice(),
            T::DTYPE == "float64" && cfg!(target_endian = "little"),
        ) {
            // SAFETY: `slice` is a contiguous `[T]` with T = f64 (checked through DTYPE), whose
            // bytes on a little-endian target are exactly the little-endian encodings hashed by
            // the general path below; u8 has no alignment or validity requirements.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    slice.as_ptr().cast::<u8>(),
                    std::mem::size_of_val(slice),
                )
            };
            self.hasher.update(bytes);
            return self;
        }
        let mut buf = Vec::with_capacity(4096);
        for &x in a.iter() {
            buf.extend_from_slice(&x.as_f64().to_le_bytes());
            if buf.len() >= 4096 {
                self.hasher.update(&buf);
                buf.clear();
            }
        }
        self.hasher.update(&buf);
        self
    }

    /// Adds a text argument (a parameter, a mode) to the key.
    pub fn arg_str(mut self, s: &str) -> Self {
        self.hasher.update(b"str");
        self.hasher.update(&(s.len() as u64).to_le_bytes());
        self.hasher.update(s.as_bytes());
        self
    }

    /// The key: 32 hexadecimal digits.
    pub fn key(&self) -> String {
        format!("{:032x}", self.hasher.digest128())
    }

    /// The file an entry for this call is stored in.
    pub fn path(&self) -> PathBuf {
        self.mem
            .dir
            .join(format!("{PREFIX}{}-{}.npy", self.name, self.key()))
    }

    /// Returns the cached result for this key, or computes it with `f`, stores it, and
    /// returns it. An error from `f` is returned and nothing is stored. A result that cannot be
    /// written is still returned (and counted in [`Stats::write_errors`]).
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn run<T, D, F>(self, f: F) -> Result<Array<T, D>>
    where
        T: Scalar + ReadableElement + WritableElement,
        D: Dimension,
        F: FnOnce() -> Result<Array<T, D>>,
    {
        let npy = self.path();
        match Memory::load::<T, D>(&npy) {
            Ok(a) => {
                self.mem.hits.fetch_add(1, Ordering::Relaxed);
                // Refresh the entry for LRU eviction; failing to do so only affects eviction order.
                if let Ok(file) = fs::File::options().append(true).open(&npy) {
                    let _ = file.set_modified(SystemTime::now());
                }
                return Ok(a);
            }
            Err(true) => {
                self.mem.corrupt.fetch_add(1, Ordering::Relaxed);
            }
            Err(false) => {}
        }
        self.mem.misses.fetch_add(1, Ordering::Relaxed);
        let result = f()?;
        let mut bytes = Vec::new();
        // The checksum goes first: once the .npy exists, a checksum for it exists too, so a
        // reader racing a writer sees either no entry or a complete one.
        let written = result.write_npy(&mut bytes).is_ok()
            && write_atomic(
                &npy.with_extension("sum"),
                format!("{:032x} {}\n", xxh3_128(&bytes), bytes.len()).as_bytes(),
            )
            .is_ok()
            && write_atomic(&npy, &bytes).is_ok();
        // Eviction runs only after a successful write (`||` short-circuits).
        if !written || self.mem.evict(&npy).is_err() {
            self.mem.write_errors.fetch_add(1, Ordering::Relaxed);
        }
        Ok(result)
    }
}
