// Pinned by its Subresource Integrity hash: runs only while the bucket holds
// exactly these bytes (and, with crossorigin, only where CORS allows).
window.pinnedRan = true;
