// Package secret decrypts SOPS-encrypted YAML files in memory, with the
// keys sops itself finds (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, …). Nothing
// decrypted is ever written to disk.
package secret
