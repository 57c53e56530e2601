// Package secret decrypts SOPS-encrypted YAML files in memory, with the
// age keys sops itself finds (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, sops' default
// keys file). It implements the sops file format with filippo.io/age and the
// standard library only, so that kcloud links none of sops' KMS clients.
// Nothing decrypted is ever written to disk.
//
// # Files
//
//   - keys.go: the age identities sops would find
//   - secret.go: Decrypt: metadata, data key, MAC
//   - tree.go: walking a sops YAML tree to decrypt each value
package secret
