package secret

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// The places sops v3.13.3 looks for age identities, and its names for them:
// https://github.com/getsops/sops/blob/v3.13.3/age/keysource.go
// (SopsAgeKeyEnv, SopsAgeKeyFileEnv, SopsAgeKeyUserConfigPath, loadIdentities,
// getUserConfigDir, parseIdentities).
const (
	envAgeKey     = "SOPS_AGE_KEY"      // identities, several per line allowed
	envAgeKeyFile = "SOPS_AGE_KEY_FILE" // a file of identities, one per line
	// defaultKeysFile is under the user config directory (os.UserConfigDir;
	// on macOS XDG_CONFIG_HOME first), read whenever it exists.
	defaultKeysFile = "sops/age/keys.txt"
)

// unsupportedKeyEnv are the other sources sops reads; kcloud does not
// (no commands run, no SSH keys), and says so when no key decrypts.
var unsupportedKeyEnv = []string{"SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "SOPS_AGE_SSH_PRIVATE_KEY_CMD"}

// identities collects the age identities from SOPS_AGE_KEY,
// SOPS_AGE_KEY_FILE and the default keys file, in sops' order. An unreadable
// or malformed source is an error (a *KeyError from the caller).
func identities() ([]age.Identity, []string, error) {
	var ids []age.Identity
	var looked []string
	var errs []error
	if v, ok := os.LookupEnv(envAgeKey); ok {
		got, err := parseIdentities(strings.NewReader(v), true)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", envAgeKey, err))
		}
		ids = append(ids, got...)
	} else {
		looked = append(looked, envAgeKey)
	}
	if path, ok := os.LookupEnv(envAgeKeyFile); ok {
		got, err := readKeysFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", envAgeKeyFile, err))
		}
		ids = append(ids, got...)
	} else {
		looked = append(looked, envAgeKeyFile)
	}
	if dir, err := userConfigDir(); err == nil && dir != "" {
		path := filepath.Join(dir, filepath.FromSlash(defaultKeysFile))
		got, err := readKeysFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			looked = append(looked, path)
		case err != nil:
			errs = append(errs, err)
		}
		ids = append(ids, got...)
	}
	return ids, looked, errors.Join(errs...)
}

func userConfigDir() (string, error) {
	if runtime.GOOS == "darwin" {
		if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" {
			return dir, nil
		}
	}
	return os.UserConfigDir()
}

func readKeysFile(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := bufio.NewReader(f)
	if p, _ := b.Peek(14); string(p) == "age-encryption" || string(p) == "-----BEGIN AGE" {
		return nil, fmt.Errorf("%s: a passphrase-protected age keys file is not supported by kcloud", path)
	}
	ids, err := parseIdentities(b, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ids, nil
}

// parseIdentities reads one identity per line (words, with multi), skipping
// empty lines and # comments, as sops does.
func parseIdentities(r io.Reader, multi bool) ([]age.Identity, error) {
	var ids []age.Identity
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words := []string{line}
		if multi {
			words = strings.Fields(line)
		}
		for _, w := range words {
			id, err := parseIdentity(w)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
	}
	return ids, sc.Err()
}

func parseIdentity(s string) (age.Identity, error) {
	switch {
	case strings.HasPrefix(s, "AGE-PLUGIN-"):
		return nil, errors.New("age plugin identities are not supported by kcloud")
	case strings.HasPrefix(s, "AGE-SECRET-KEY-PQ-1"):
		return age.ParseHybridIdentity(s)
	case strings.HasPrefix(s, "AGE-SECRET-KEY-1"):
		return age.ParseX25519Identity(s)
	default:
		return nil, errors.New("unknown identity type (not an age secret key)")
	}
}

// dataKeySize is the length of sops' data key: AES-256, 32 random bytes
// (https://github.com/getsops/sops/blob/v3.13.3/sops.go, GenerateDataKey).
const dataKeySize = 32

// dataKey decrypts the file's data key with the first age recipient entry
// one of the identities opens. Each entry's enc is the data key encrypted
// to that recipient, armored
// (https://github.com/getsops/sops/blob/v3.13.3/age/keysource.go, Encrypt
// and Decrypt). Only "no key at hand" is a *KeyError: a key source that
// cannot be read, an entry that is not a valid age stanza or a data key of
// the wrong length are errors of their own, which vet does not excuse.
func dataKey(md *metadata) ([]byte, error) {
	stanzas, err := md.ageKeys()
	if err != nil {
		return nil, &KeyError{Err: err}
	}
	ids, looked, idErr := identities()
	if len(ids) == 0 {
		if idErr != nil {
			return nil, fmt.Errorf("read the age keys: %w", idErr)
		}
		msg := "no age identity found (looked in " + strings.Join(looked, ", ") + ")"
		for _, env := range unsupportedKeyEnv {
			if _, ok := os.LookupEnv(env); ok {
				msg += "; " + env + " is set but not supported by kcloud"
			}
		}
		return nil, &KeyError{Err: errors.New(msg)}
	}
	var noMatch, broken []error
	for _, s := range stanzas {
		key, err := openStanza(s, ids)
		var nm *age.NoIdentityMatchError
		switch {
		case err == nil:
			return key, nil
		case errors.As(err, &nm):
			noMatch = append(noMatch, fmt.Errorf("recipient %s: %w", s.Recipient, err))
		default:
			broken = append(broken, fmt.Errorf("recipient %s: %w", s.Recipient, err))
		}
	}
	if len(broken) > 0 || idErr != nil {
		return nil, fmt.Errorf("decrypt the data key: %w", errors.Join(append(append(broken, noMatch...), idErr)...))
	}
	return nil, &KeyError{Err: errors.Join(noMatch...)}
}

// openStanza decrypts one recipient's armored data key.
func openStanza(s ageKey, ids []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(s.Enc)), ids...)
	if err != nil {
		return nil, err
	}
	key, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("malformed age stanza: %w", err)
	}
	if len(key) != dataKeySize {
		return nil, fmt.Errorf("the data key is %d bytes long, not %d: the file was not written by sops or is corrupt", len(key), dataKeySize)
	}
	return key, nil
}
