// Package artifacts stores what steps produce: content-addressed blobs, the
// manifests that name them, run records and registry documents.
//
// # Layout
//
//	objects/<sha256>                  blobs, named by the hex sha256 of their bytes
//	steps/<step>/<key>/manifest.json  one per cached step output, created once
//	runs/<run-id>.json                run records
//	registry/<model>/...              model versions and aliases (artifacts/registry)
//
// # Stores
//
// A Store is the small interface every backend implements: a local directory
// (artifacts/local) and S3 through minio-go (artifacts/s3). Names are
// slash-separated relative paths checked by CheckName; every backend rejects
// a bad name with ErrInvalidName before any I/O. Backends translate their
// errors into ErrNotFound (a missing object, for a manifest a cache miss) and
// ErrExists (Create of a taken name). Put replaces an object atomically and
// Create is an atomic create-if-absent, across processes and machines; the
// conformance suite in artifacts/storetest holds every backend to this.
//
// # Blobs and manifests
//
// A step's outputs are stored with PutBlob or PutBlobFile, which hash while
// streaming and skip the upload if the store already holds the blob, and read
// back with OpenBlobFile, which returns a local file (the store's own file
// for a Localizer, else a verified download). When the outputs are stored,
// the worker commits a Manifest naming them with CommitManifest. The write is
// create-only, so of several attempts at the same step and key exactly one
// commits, and the others adopt its outputs. CheckManifest is the cache
// lookup: it reports a hit only if the manifest and every blob it names
// exist.
//
// This package imports only the standard library, so every sous package can
// depend on it.
package artifacts
