"""Object store on an fsspec filesystem: S3 (through s3fs) and other URLs.

S3 never shows a half-written object: a PUT, or the completion of a multipart
upload, makes the whole object visible at once, so files are uploaded straight
to their final key. Uploads are create-only (``If-None-Match: *``); a failed
multipart upload is aborted (s3fs does so), and one that could not be aborted
(the network went away) is listed by `FsspecStore.list_temporaries`.

fsspec and s3fs are imported only when a store is created.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from lineage.errors import StorageError, ValidationError
from lineage.storage import _fileio
from lineage.storage.base import (
    ObjectStore,
    ProgressCallback,
    Temporary,
    check_prefix,
    check_read_mode,
)
from lineage.storage.hashing import (
    BLOCK_SIZE,
    FileDigest,
    FolderDigest,
    FolderEntry,
    folder_digest_from_manifest,
    list_folder_files,
    pread_into,
)

S3_PROTOCOLS = ("s3", "s3a")
DEFAULT_S3_CONFIG = {"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 10}
"""botocore settings used unless ``storage_options["config_kwargs"]`` sets them.

botocore's legacy default retries a refused connection for about 8 s;
these fail in about 1.5 s.
"""

_MULTIPART_MARK = "?uploadId="
SHA256_METADATA = "lineage-sha256"
"""User metadata key holding the SHA-256 of an object uploaded in parts."""
_CONNECTION_ERRORS = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ConnectionClosedError",
    "ReadTimeoutError",
    "ClientConnectorError",
    "ServerDisconnectedError",
    "ConnectionRefusedError",
    "InvalidURL",
}
_CREDENTIAL_ERRORS = {"NoCredentialsError", "PartialCredentialsError"}
_REJECTED_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}


class FsspecStore(ObjectStore):
    """Object store at an fsspec URL such as ``s3://bucket/prefix``.

    Creating one does no network I/O; call `check` (as `open_store` does) to
    find a missing bucket or an unreachable endpoint early.

    Args:
        root: ``<protocol>://<bucket>[/<prefix>]``.
        storage_options: Passed to the fsspec filesystem (for S3 e.g.
            ``endpoint_url``, ``key``, ``secret``, ``config_kwargs``).
        durable: fsync files written by `fetch`.
        multipart_chunksize: Part size of multipart uploads (at least 5 MiB
            on S3); default: s3fs's choice (50 MiB, more for huge files).

    Raises:
        ValidationError: The URL has no bucket.
        ImportError: fsspec (or s3fs for S3) is not installed.
    """

    def __init__(
        self,
        root: str,
        *,
        storage_options: Mapping[str, Any] | None = None,
        durable: bool = True,
        multipart_chunksize: int | None = None,
    ) -> None:
        protocol, sep, path = root.partition("://")
        path = path.strip("/")
        if not sep or not protocol or not path:
            raise ValidationError(
                f"storage location {root!r} needs a bucket, e.g. 's3://my-bucket/prefix'."
            )
        self._protocol = protocol.lower()
        self._is_s3 = self._protocol in S3_PROTOCOLS
        self._base = path
        self._bucket, _, key_prefix = path.partition("/")
        self._key_prefix = f"{key_prefix}/" if key_prefix else ""
        self._root = f"{self._protocol}://{path}"
        self.durable = durable
        self._chunksize = multipart_chunksize
        options = dict(storage_options or {})
        if self._is_s3:
            config = dict(options.get("config_kwargs") or {})
            for name, value in DEFAULT_S3_CONFIG.items():
                config.setdefault(name, value)
            options["config_kwargs"] = config
            options.setdefault("use_listings_cache", False)
        self._endpoint = _redacted_endpoint(options)
        try:
            import fsspec

            self._fs = fsspec.filesystem(self._protocol, **options)
        except ImportError as exc:
            extra = "lineage[s3]" if self._is_s3 else f"the fsspec package for {protocol}://"
            raise ImportError(f"storage {self._root} needs {extra}; install it.") from exc
        # The filesystem's own spelling of paths (memory:// adds a leading "/").
        self._base = self._fs._strip_protocol(self._root).rstrip("/")

    def __repr__(self) -> str:
        return f"FsspecStore({self._root!r})"

    @property
    def root(self) -> str:
        """The URL, e.g. ``s3://bucket/prefix``."""
        return self._root

    @property
    def filesystem(self) -> Any:
        """The underlying fsspec filesystem."""
        return self._fs

    def check(self) -> None:
        """Check the bucket exists and is reachable (one request for S3)."""
        try:
            with self._location_errors():
                if self._is_s3:
                    self._fs.call_s3("head_bucket", Bucket=self._bucket)
                else:
                    self._fs.exists(self._base)
        except StorageError:
            raise
        except FileNotFoundError as exc:
            raise self._missing_bucket_error() from exc
        except PermissionError as exc:
            raise StorageError(
                f"access to {self._where()} was denied; check the credentials "
                "and the bucket policy."
            ) from exc
        except Exception as exc:
            raise StorageError(f"storage location {self._where()} cannot be used: {exc}") from exc

    # Writing.

    def put_file(
        self,
        src: str | os.PathLike[str],
        object_key: str,
        *,
        digest: FileDigest | None = None,
        progress: ProgressCallback | None = None,
    ) -> FileDigest:
        """Upload a file to its final key; see `ObjectStore.put_file`.

        On S3 the file is read once: each part is hashed as it is read, and
        the upload is completed only if the whole matches ``digest``. A single
        PUT carries the SHA-256 (``x-amz-checksum-sha256``), which S3 checks
        on arrival; multipart parts carry a CRC32 S3 checks, and the object's
        SHA-256 is kept in its metadata (``x-amz-meta-lineage-sha256``). A
        mismatch never becomes a visible object: nothing is PUT, or the
        multipart upload is aborted.
        """
        key = self._object_key(object_key)
        path = self._path(key)
        src = Path(src)
        sfd, st = _fileio.open_regular(src)
        try:
            _fileio.check_source_digest(src, st.st_size, digest)
            with self._location_errors():
                head = self._head(path)
            overwrite = False
            if head is not None:
                if digest is None:
                    digest = _fileio.digest_of_stored_source(sfd, st, src, None)
                if self._head_matches(head, digest, path):
                    if progress is not None:
                        progress(st.st_size)
                    return digest
                overwrite = True  # other content under this key: replace it
            if not self._is_s3:
                return self._put_generic(sfd, st, src, path, digest, progress)
            with self._location_errors():
                return self._put_s3(sfd, st, src, path, digest, overwrite, progress)
        finally:
            os.close(sfd)

    def _put_generic(self, sfd: int, st: os.stat_result, src: Path, path: str,
                     expect: FileDigest | None, progress: ProgressCallback | None) -> FileDigest:
        """Other fsspec filesystems: hash while uploading, remove the object on a mismatch."""
        stop = threading.Event()
        hasher = _Background(lambda: _hash_until(sfd, stop))
        try:
            with self._location_errors():
                self._fs.put_file(str(src), path, callback=_bytes_callback(progress))
        except BaseException:
            stop.set()
            hasher.join()
            raise
        got = hasher.result()
        if (got is None or got.size != st.st_size or (expect is not None and got != expect)
                or not _fileio.same_content_stat(st, os.fstat(sfd))):
            self._remove_quietly(path)
            raise _fileio.source_changed_error(src, expect.sha256 if expect else None)
        return got

    def _put_s3(self, sfd: int, st: os.stat_result, src: Path, path: str,
                expect: FileDigest | None, overwrite: bool,
                progress: ProgressCallback | None) -> FileDigest:
        bucket_key = path[len(self._bucket) + 1:]
        size = st.st_size
        part_size = self._part_size(size)
        match = {} if overwrite else {"IfNoneMatch": "*"}

        def check(got: FileDigest) -> None:
            if (got.size != size or (expect is not None and got != expect)
                    or not _fileio.same_content_stat(st, os.fstat(sfd))):
                raise _fileio.source_changed_error(src, expect.sha256 if expect else None)

        if size <= part_size:
            body = _read_at(sfd, 0, size)
            got = FileDigest(hashlib.sha256(body).hexdigest(), len(body))
            check(got)
            try:
                self._fs.call_s3(
                    "put_object", Bucket=self._bucket, Key=bucket_key, Body=body,
                    ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(got.sha256),
                    Metadata={SHA256_METADATA: got.sha256},
                    **match)
            except Exception as exc:  # noqa: BLE001 - only a lost create-only race is handled
                if not _precondition_failed(exc):
                    raise
                head = self._head(path)
                if head is None or not self._head_matches(head, got, path):
                    raise
            if progress is not None:
                progress(size)
            return got
        metadata = {SHA256_METADATA: expect.sha256} if expect is not None else {}
        upload = self._fs.call_s3("create_multipart_upload", Bucket=self._bucket,
                                  Key=bucket_key, Metadata=metadata, ChecksumAlgorithm="CRC32")
        upload_id = upload["UploadId"]
        try:
            sha = hashlib.sha256()
            parts = []
            offset = 0
            while offset < size:
                body = _read_at(sfd, offset, min(part_size, size - offset))
                if not body:
                    break
                sha.update(body)
                number = len(parts) + 1
                out = self._fs.call_s3("upload_part", Bucket=self._bucket, Key=bucket_key,
                                       UploadId=upload_id, PartNumber=number, Body=body,
                                       ChecksumAlgorithm="CRC32")
                part = {"PartNumber": number, "ETag": out["ETag"]}
                if out.get("ChecksumCRC32"):
                    part["ChecksumCRC32"] = out["ChecksumCRC32"]
                parts.append(part)
                offset += len(body)
                if progress is not None:
                    progress(len(body))
            got = FileDigest(sha.hexdigest(), offset)
            check(got)
            self._fs.call_s3("complete_multipart_upload", Bucket=self._bucket, Key=bucket_key,
                             UploadId=upload_id, MultipartUpload={"Parts": parts}, **match)
        except BaseException:
            with suppress(Exception):  # keep the original error; doctor lists leftovers
                self._fs.call_s3("abort_multipart_upload", Bucket=self._bucket,
                                 Key=bucket_key, UploadId=upload_id)
            raise
        return got

    def _part_size(self, size: int) -> int:
        """Bytes per part: the configured size, else 50 MiB (more for huge files)."""
        if self._chunksize:
            return max(self._chunksize, 5 << 20)
        return max(50 << 20, -(-size // 10_000))

    def _head(self, path: str) -> dict[str, Any] | None:
        """HEAD of the file at ``path`` (with its checksum), None if there is none."""
        if not self._is_s3:
            try:
                info = self._fs.info(path)
            except FileNotFoundError:
                return None
            return info if info.get("type") == "file" else None
        try:
            return self._fs.call_s3("head_object", Bucket=self._bucket,
                                    Key=path[len(self._bucket) + 1:], ChecksumMode="ENABLED")
        except FileNotFoundError:
            return None

    def _head_matches(self, head: dict[str, Any], digest: FileDigest, path: str) -> bool:
        """Whether the object described by `head` holds exactly `digest`'s content.

        S3: the SHA-256 S3 verified at upload, or the one a verified multipart
        upload recorded in the metadata; any other object (an overwrite by
        another tool, a truncated copy) does not match. Other filesystems:
        the object is hashed.
        """
        if not self._is_s3:
            try:
                return int(head.get("size", -1)) == digest.size and self._hash_stored(
                    path[len(self._base) + 1:]) == digest
            except OSError:
                return False
        if int(head.get("ContentLength", -1)) != digest.size:
            return False
        if head.get("ChecksumSHA256") == _b64(digest.sha256):
            return True
        return (head.get("Metadata") or {}).get(SHA256_METADATA) == digest.sha256

    def holds(self, key: str, digest: FileDigest | FolderDigest) -> bool:
        """Whether the object under ``key`` has this content (S3: by its verified checksum)."""
        key = self._object_key(key)
        if isinstance(digest, FolderDigest):
            return self._verify_folder(key, digest)
        path = self._path(key)
        with self._location_errors():
            head = self._head(path)
        return head is not None and self._head_matches(head, digest, path)

    def put_folder(
        self,
        src: str | os.PathLike[str],
        object_key_prefix: str,
        *,
        digest: FolderDigest | None = None,
        progress: ProgressCallback | None = None,
    ) -> FolderDigest:
        """Upload a folder's files under a prefix; see `ObjectStore.put_folder`.

        Each file goes through `put_file` (read once, verified against its
        manifest entry when ``digest`` is given; files already stored with
        that content are skipped), a few at a time. If one fails, the files
        this call uploaded are deleted (best effort) and the original
        exception is re-raised.
        """
        from concurrent.futures import ThreadPoolExecutor

        prefix = self._object_key(object_key_prefix)
        src = Path(src)
        files = list_folder_files(src)
        for rel, _, _ in files:
            self._object_key(f"{prefix}/{rel}")
        if digest is not None:
            _fileio.check_folder_digest(src, files, digest)
        expect = {e.path: FileDigest(e.sha256, e.size) for e in digest.manifest} if digest else {}
        with self._location_errors():
            existed = set(self._sizes_under(prefix))
        lock = threading.Lock()

        def counted(n: int) -> None:
            if progress is not None:
                with lock:
                    progress(n)

        def one(item: tuple[str, Path, int]) -> FolderEntry:
            rel, path, _ = item
            got = self.put_file(path, f"{prefix}/{rel}", digest=expect.get(rel),
                                progress=counted)
            return FolderEntry(rel, got.sha256, got.size)

        with ThreadPoolExecutor(min(8, len(files)), thread_name_prefix="lineage-upload") as pool:
            futures = [pool.submit(one, item) for item in files]
            errors = [f.exception() for f in futures]
        failed = next((e for e in errors if e is not None), None)
        if failed is not None:
            with suppress(Exception):  # best effort: keep the original error
                done = [self._path(f"{prefix}/{rel}") for rel, _, _ in files
                        if rel not in existed]
                if done:
                    self._fs.rm(done)
            raise failed
        return folder_digest_from_manifest(f.result() for f in futures)

    # Reading.

    def exists(self, key: str) -> bool:
        """Whether a file or folder is stored under ``key``."""
        path = self._path(self._object_key(key))
        with self._location_errors():
            return self._file_size(path) is not None or self._is_folder(path)

    def size(self, key: str) -> int:
        """Size in bytes of a file, or of all files of a folder."""
        key = self._object_key(key)
        path = self._path(key)
        with self._location_errors():
            size = self._file_size(path)
            if size is not None:
                return size
            sizes = self._sizes_under(key)
        if not sizes:
            raise self._not_found(key)
        return sum(sizes.values())

    def open(self, key: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open a stored file for reading (streamed)."""
        check_read_mode(mode)
        with self._location_errors():
            return self._fs.open(self._path(self._object_key(key)), mode, **kwargs)

    # Objects registered in place (`lineage.artifacts.external`): any key of
    # the bucket, read where it lives, never written.
    def head_object(self, bucket_key: str, version_id: str | None = None) -> dict[str, Any]:
        """Size, ETag and version id of the S3 object at `bucket_key` (a key of the bucket).

        Returns:
            ``{"size": int, "etag": str | None, "version_id": str | None}``;
            the version id is None on a bucket without versioning.

        Raises:
            FileNotFoundError: No such object (or no such version).
            StorageError: Missing bucket, unreachable endpoint, bad credentials.
        """
        if not self._is_s3:
            raise ValidationError(f"objects can be registered in place on S3 only, not {self._root}.")
        extra = {"VersionId": version_id} if version_id else {}
        with self._location_errors():
            try:
                head = self._fs.call_s3("head_object", Bucket=self._bucket, Key=bucket_key, **extra)
            except FileNotFoundError:
                raise
            except Exception as exc:
                if _error_code(exc) in ("NoSuchKey", "NoSuchVersion", "404", "400") and version_id:
                    raise FileNotFoundError(errno.ENOENT, str(exc), bucket_key) from exc
                raise
        version = head.get("VersionId")
        return {"size": int(head.get("ContentLength", 0)), "etag": head.get("ETag"),
                "version_id": None if version in (None, "null") else str(version)}

    def read_object(self, bucket_key: str, size: int, version_id: str | None = None,
                    block_size: int = 8 << 20) -> Iterator[bytes]:
        """The bytes of the S3 object at `bucket_key` as ranged reads of `block_size`.

        With `version_id` every read asks for that version, so an overwrite
        in between cannot mix two contents.

        Raises:
            FileNotFoundError: The object (or version) is gone.
            StorageError: Missing bucket, unreachable endpoint, bad credentials.
        """
        path = f"{self._bucket}/{bucket_key}"
        for start in range(0, size, block_size):
            end = min(start + block_size, size)
            with self._location_errors():
                chunk = self._fs.cat_file(path, version_id=version_id, start=start, end=end)
            if not chunk:
                return
            yield chunk

    def fetch(
        self,
        key: str,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Download an object to ``dest`` atomically; see `ObjectStore.fetch`."""
        key = self._object_key(key)
        path = self._path(key)
        dest = Path(dest).absolute()
        with self._location_errors():
            size = self._file_size(path)
            if size is None:
                sizes = self._sizes_under(key)
                if not sizes:
                    raise self._not_found(key)
                self._fetch_folder(key, sizes, dest, progress)
                return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.{secrets.token_hex(8)}.part"
        try:
            with self._location_errors():
                self._fs.get_file(path, str(tmp), callback=_bytes_callback(progress))
            self._finish_download(tmp, size)
            _fileio.move_into_place(tmp, dest, durable=self.durable)
        except BaseException:
            _fileio.remove_quietly(tmp)
            raise
        return dest

    def _fetch_folder(
        self, key: str, sizes: dict[str, int], dest: Path, progress: ProgressCallback | None
    ) -> None:
        staging = dest.parent / f".{dest.name}.{secrets.token_hex(8)}.part"
        rels = sorted(sizes)
        try:
            staging.mkdir(parents=True)
            self._fs.get(
                [self._path(f"{key}/{rel}") for rel in rels],
                [str(staging / rel) for rel in rels],
                callback=_bytes_callback(progress, per_file=True),
            )
            for rel in rels:
                self._finish_download(staging / rel, sizes[rel])
            if self.durable:
                for folder in {(staging / rel).parent for rel in rels} | {staging}:
                    _fileio.fsync_dir(folder)
            _fileio.replace_tree(staging, dest, dest.parent, durable=self.durable)
        except BaseException:
            _fileio.remove_quietly(staging)
            raise

    def _finish_download(self, tmp: Path, size: int) -> None:
        got = tmp.stat().st_size
        if got != size:
            raise OSError(errno.EIO, f"download of {tmp.name} incomplete: {got} of {size} bytes")
        if self.durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def local_path(self, key: str) -> None:
        """Always None: objects are remote."""
        self._object_key(key)
        return None

    # Housekeeping.

    def delete(self, key: str) -> bool:
        """Delete a stored file or folder; True if something was deleted."""
        key = self._object_key(key)
        path = self._path(key)
        with self._location_errors():
            if self._file_size(path) is not None:
                self._fs.rm_file(path)
                return True
            keys = list(self._sizes_under(key))
            if not keys:
                return False
            self._fs.rm([self._path(f"{key}/{rel}") for rel in keys])
        return True

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of stored files starting with ``prefix``, in sorted order."""
        check_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        start = self._path(folder) if folder else self._base
        with self._location_errors():
            found = self._fs.find(start)
        cut = len(self._base) + 1
        for path in sorted(found):
            key = path[cut:]
            if key.startswith(prefix):
                yield key

    def list_temporaries(self) -> list[Temporary]:
        """Incomplete multipart uploads under this location (S3 only)."""
        if not self._is_s3:
            return []
        found: list[Temporary] = []
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._key_prefix}
        with self._location_errors():
            while True:
                page = self._fs.call_s3("list_multipart_uploads", **params)
                for upload in page.get("Uploads", []):
                    rel = upload["Key"][len(self._key_prefix) :]
                    stamp = upload["Initiated"].timestamp()
                    found.append(Temporary(f"{rel}{_MULTIPART_MARK}{upload['UploadId']}", stamp))
                if not page.get("IsTruncated"):
                    break
                params["KeyMarker"] = page["NextKeyMarker"]
                params["UploadIdMarker"] = page["NextUploadIdMarker"]
        return sorted(found)

    def remove_temporary(self, key: str) -> None:
        """Abort one incomplete multipart upload (a no-op if already gone)."""
        rel, mark, upload_id = key.rpartition(_MULTIPART_MARK)
        if not self._is_s3 or not mark or not rel or not upload_id:
            raise ValueError(
                f"{key!r} is not a temporary of {self._root}; pass a key from list_temporaries()."
            )
        try:
            with self._location_errors():
                self._fs.call_s3(
                    "abort_multipart_upload",
                    Bucket=self._bucket,
                    Key=self._key_prefix + rel,
                    UploadId=upload_id,
                )
        except FileNotFoundError:
            pass

    # Internals.

    def _path(self, key: str) -> str:
        return f"{self._base}/{key}"

    def _file_size(self, path: str) -> int | None:
        """Size of the file at ``path``, None if there is none (one request)."""
        try:
            if self._is_s3:
                head = self._fs.call_s3(
                    "head_object", Bucket=self._bucket, Key=path[len(self._bucket) + 1 :]
                )
                return int(head["ContentLength"])
            info = self._fs.info(path)
        except FileNotFoundError:
            return None
        return int(info["size"]) if info.get("type") == "file" else None

    def _is_folder(self, path: str) -> bool:
        if self._is_s3:
            page = self._fs.call_s3(
                "list_objects_v2",
                Bucket=self._bucket,
                Prefix=path[len(self._bucket) + 1 :] + "/",
                MaxKeys=1,
            )
            return bool(page.get("KeyCount"))
        return bool(self._fs.isdir(path))

    def _sizes_under(self, key: str) -> dict[str, int]:
        """``{relative path: size}`` of the files under folder ``key``."""
        start = self._path(key)
        try:
            found = self._fs.find(start, detail=True)
        except FileNotFoundError:
            return {}
        cut = len(start) + 1
        return {
            p[cut:]: int(info["size"])
            for p, info in found.items()
            if p.startswith(start + "/") and info.get("type", "file") == "file"
        }

    def _remove_quietly(self, path: str) -> None:
        # Cleanup while failing: never let it hide the original error.
        with suppress(Exception):
            self._fs.rm_file(path)

    def _where(self) -> str:
        return f"{self._root} (endpoint {self._endpoint})" if self._endpoint else self._root

    def _missing_bucket_error(self) -> StorageError:
        return StorageError(
            f"bucket {self._bucket!r} of storage location {self._where()} does not "
            f"exist; create it (e.g. `aws s3 mb s3://{self._bucket}`) or fix the location."
        )

    def _not_found(self, key: str) -> FileNotFoundError:
        return FileNotFoundError(errno.ENOENT, f"no object {key!r} in {self._root}", key)

    @contextmanager
    def _location_errors(self) -> Iterator[None]:
        """Turn a missing bucket, bad credentials or no connection into StorageError."""
        try:
            yield
        except StorageError:
            raise
        except Exception as exc:
            error = self._location_error(exc)
            if error is None:
                raise
            raise error from exc

    def _location_error(self, exc: BaseException) -> StorageError | None:
        chain = [exc]
        if exc.__cause__ is not None:
            chain.append(exc.__cause__)
        names = {cls.__name__ for e in chain for cls in type(e).__mro__}
        codes = {_error_code(e) for e in chain} - {None}
        if "NoSuchBucket" in codes:
            return self._missing_bucket_error()
        if names & _CONNECTION_ERRORS:
            return StorageError(
                f"cannot reach storage location {self._where()} ({type(exc).__name__}); "
                "check the endpoint URL and the network, then retry."
            )
        if names & _CREDENTIAL_ERRORS:
            return StorageError(
                f"no credentials for storage location {self._where()}; set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or "
                "storage_options key/secret."
            )
        if codes & _REJECTED_CREDENTIAL_CODES:
            return StorageError(
                f"the credentials for storage location {self._where()} were rejected "
                f"({', '.join(sorted(codes))}); check them."
            )
        return None


class _Background:
    """Run a function on a daemon thread; `result` joins and re-raises."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._value = fn()
        except BaseException as exc:  # re-raised by result()
            self._error = exc

    def join(self) -> None:
        """Wait for the thread, ignoring its outcome (used while failing)."""
        self._thread.join()

    def result(self) -> Any:
        """Wait for the thread; return its value or raise its exception."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _hash_until(fd: int, stop: threading.Event) -> FileDigest | None:
    """`hash_fd`, giving up (returning None) as soon as ``stop`` is set."""
    sha = hashlib.sha256()
    view = memoryview(bytearray(BLOCK_SIZE))
    pos = 0
    while not stop.is_set():
        n = pread_into(fd, view, pos)
        if not n:
            return FileDigest(sha.hexdigest(), pos)
        sha.update(view[:n])
        pos += n
    return None


def _b64(sha256_hex: str) -> str:
    """The base64 form S3 uses for a checksum given in hex."""
    import base64

    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def _read_at(fd: int, offset: int, count: int) -> bytes:
    """``count`` bytes at ``offset`` (fewer at end of file)."""
    chunks = []
    while count > 0:
        chunk = os.pread(fd, count, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        count -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _precondition_failed(exc: BaseException) -> bool:
    """Whether a create-only PUT was refused because the key exists (412)."""
    if isinstance(exc, FileExistsError):
        return True
    chain = [exc, exc.__cause__]
    return any(e is not None and (_error_code(e) == "PreconditionFailed" or "412" in str(e))
               for e in chain)


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def _redacted_endpoint(options: Mapping[str, Any]) -> str:
    """The endpoint URL from storage options, its credentials redacted."""
    url = options.get("endpoint_url") or (options.get("client_kwargs") or {}).get("endpoint_url")
    if not url:
        return ""
    from lineage.capture.redact import redact_url

    return redact_url(str(url))


def _bytes_callback(progress: ProgressCallback | None, *, per_file: bool = False) -> Any:
    """An fsspec callback forwarding transferred byte counts to ``progress``."""
    from fsspec.callbacks import DEFAULT_CALLBACK, Callback

    if progress is None:
        return DEFAULT_CALLBACK

    class _Bytes(Callback):
        def __init__(self, counts_bytes: bool) -> None:
            super().__init__()
            self._counts_bytes = counts_bytes

        def relative_update(self, inc: int = 1) -> None:
            super().relative_update(inc)
            if self._counts_bytes and progress is not None:
                progress(inc)

        def branched(self, path_1: Any, path_2: Any, **kwargs: Any) -> Callback:
            return _Bytes(True)

    return _Bytes(not per_file)
