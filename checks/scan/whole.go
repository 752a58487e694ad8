package scan

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
)

// MaxWholeBytes is the largest file read and scanned whole when its diff is missing
// (GitHub sends no patch for a large diff or a binary file); a larger one cannot be
// scanned and is reported as such.
const MaxWholeBytes = 10 << 20

// RuleKeyContainer is the rule of a private key container added as a file: a PKCS #12
// bundle, a Java keystore, an SSH private key file, a DER-encoded private key.
const RuleKeyContainer = "key-container"

// Rules are the scan step's own rules (besides the secret and agent detectors'), for
// `escapegate rules`.
func Rules() []checks.RuleInfo {
	return []checks.RuleInfo{{
		ID: RuleKeyContainer, Category: checks.CategorySecret, Severity: checks.SeverityCritical, Source: "escapegate",
		Description: "A private key container added as a file (PKCS #12 .p12/.pfx, Java keystore .jks/.keystore, SSH id_rsa/id_ed25519 files, DER private keys), told by its name or its content; its content is never shown.",
	}}
}

// Outcome is what scanning a file whole found.
type Outcome struct {
	Findings []checks.Finding
	// Media, when set, says why the file was not scanned (an image, a font, an archive
	// of media): it holds nothing a detector reads, and it does not fail the check.
	Media string
	// Unscanned, when set, says why the file could not be scanned (a compressed file, a
	// nested archive): nothing is known of it, and it fails the check unless policy says otherwise.
	Unscanned string
}

// ScanWhole scans a changed file whose diff is not known from its whole content at
// head, every line taken as added. Secrets found in the base's content too (same
// fingerprint) are marked Existing; agent and workflow configurations are compared with
// the base as Scan does. Binary files are recognised by their content: key containers
// are findings themselves, media are not scanned (Outcome.Media), other binary files
// are scanned for secrets as they are, zip archives entry by entry (scanZip), and
// other compressed files cannot be scanned (Outcome.Unscanned). src may be nil (no base known: nothing is Existing).
func (s Scanner) ScanWhole(ctx context.Context, f File, head []byte, src Contents) (Outcome, error) {
	var out Outcome
	if f.Status == "removed" || f.Path == "" {
		return out, nil
	}
	cs := &cachedContents{src: src, head: head}
	if kind := KeyContainer(f.Path, head); kind != "" {
		fd := s.keyContainer(f.Path, kind, head)
		base, known, err := cs.baseOf(ctx, f)
		if err != nil {
			return out, fmt.Errorf("reading %s at base: %w", basePath(f), err)
		}
		fd.Existing = known && base != nil && s.keyContainer(f.Path, kind, base).Fingerprint == fd.Fingerprint
		out.Findings = []checks.Finding{fd}
		return out, nil
	}
	if diff.IsBinary(head) {
		if m := Media(head); m != "" {
			out.Media = m
			return out, nil
		}
		if isZip(head) {
			return s.scanZip(ctx, f, head, cs)
		}
		if a := archive(head); a != "" {
			out.Unscanned = a + ": its contents are not scanned"
			return out, nil
		}
	}
	wf := File{Path: f.Path, PreviousPath: f.PreviousPath, Status: f.Status, Added: diff.Lines(head)}
	found, err := s.Scan(ctx, wf, cs)
	if err != nil {
		return out, err
	}
	var seen map[string]bool // fingerprints of the base's secrets, on first need
	for i := range found {
		if found[i].Category != checks.CategorySecret || found[i].Existing {
			continue
		}
		if seen == nil {
			base, known, err := cs.baseOf(ctx, f)
			if err != nil {
				return out, fmt.Errorf("reading %s at base: %w", basePath(f), err)
			}
			seen = map[string]bool{}
			if known && base != nil {
				for _, b := range s.Secrets.ScanFile(s.Fingerprint, s.Repo, f.Path, diff.Lines(base), nil) {
					seen[b.Fingerprint] = true
				}
			}
		}
		found[i].Existing = seen[found[i].Fingerprint]
	}
	out.Findings = found
	return out, nil
}

// scanZip scans the entries of a zip archive (a jar, a bundle): key containers among
// them are findings, media are skipped, every other entry is scanned for secrets. The
// findings are on the archive's path, their message naming the entry. An archive that
// cannot be opened, holds another archive, or unpacks to over MaxWholeBytes is Unscanned.
// A secret or key container the base's archive had too is Existing.
func (s Scanner) scanZip(ctx context.Context, f File, head []byte, cs *cachedContents) (Outcome, error) {
	out, err := s.zipFindings(f.Path, head)
	if err != nil || out.Unscanned != "" || len(out.Findings) == 0 {
		return out, err
	}
	base, known, err := cs.baseOf(ctx, f)
	if err != nil {
		return out, fmt.Errorf("reading %s at base: %w", basePath(f), err)
	}
	if !known || base == nil || !isZip(base) {
		return out, nil
	}
	had, _ := s.zipFindings(f.Path, base)
	seen := map[string]bool{}
	for _, b := range had.Findings {
		seen[b.Fingerprint] = true
	}
	for i := range out.Findings {
		out.Findings[i].Existing = seen[out.Findings[i].Fingerprint]
	}
	return out, nil
}

func (s Scanner) zipFindings(p string, content []byte) (Outcome, error) {
	var out Outcome
	r, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		out.Unscanned = "archive (zip) that could not be opened: its contents are not scanned"
		return out, nil
	}
	left := int64(MaxWholeBytes)
	for _, e := range r.File {
		if strings.HasSuffix(e.Name, "/") {
			continue
		}
		if mediaExts[strings.ToLower(path.Ext(e.Name))] {
			continue
		}
		rc, err := e.Open()
		if err != nil {
			out.Unscanned = fmt.Sprintf("archive (zip) whose entry %s could not be read: its contents are not scanned", e.Name)
			return out, nil
		}
		data, err := io.ReadAll(io.LimitReader(rc, left+1))
		rc.Close()
		if err != nil {
			out.Unscanned = fmt.Sprintf("archive (zip) whose entry %s could not be read: its contents are not scanned", e.Name)
			return out, nil
		}
		if int64(len(data)) > left {
			out.Unscanned = fmt.Sprintf("archive (zip) over %d MB unpacked: its contents are not all scanned", MaxWholeBytes>>20)
			return out, nil
		}
		left -= int64(len(data))
		entry := p + "!" + e.Name
		if kind := KeyContainer(e.Name, data); kind != "" {
			out.Findings = append(out.Findings, s.keyContainer(p, kind+" in "+e.Name, data))
			continue
		}
		if diff.IsBinary(data) {
			if Media(data) != "" {
				continue
			}
			if isZip(data) || archive(data) != "" {
				out.Unscanned = fmt.Sprintf("archive (zip) holding another archive (%s): its contents are not scanned", e.Name)
				return out, nil
			}
		}
		for _, fd := range s.Secrets.ScanFile(s.Fingerprint, s.Repo, entry, diff.Lines(data), nil) {
			fd.Message = fmt.Sprintf("%s in %s (line %d)", fd.Message, e.Name, fd.Line)
			fd.Path, fd.Line, fd.EndLine = p, 0, 0
			fd.Suppressed, fd.SuppressedOnBase = false, false
			out.Findings = append(out.Findings, fd)
		}
	}
	return out, nil
}

func (s Scanner) keyContainer(p, kind string, content []byte) checks.Finding {
	sum := sha256.Sum256(content)
	return checks.Finding{
		Rule: RuleKeyContainer, Category: checks.CategorySecret, Severity: checks.SeverityCritical,
		Path: p, Line: 0,
		Message:     fmt.Sprintf("Private key container added: %s (%s)", p, kind),
		Fingerprint: s.Fingerprint.Secret(s.Repo, RuleKeyContainer, hex.EncodeToString(sum[:])),
		Fix:         "Remove the file from the change (and from the branch's history), revoke and rotate every key and certificate it holds, and keep keys in a secret manager or the CI's secret store instead of the repository.",
	}
}

// KeyContainer names the kind of private key container a file is, by its name or its
// content, or returns "".
func KeyContainer(p string, content []byte) string {
	base := strings.ToLower(path.Base(p))
	switch path.Ext(base) {
	case ".p12", ".pfx":
		return "PKCS #12"
	case ".jks", ".keystore", ".jceks", ".bks":
		return "Java keystore"
	}
	switch base {
	case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk":
		return "SSH private key"
	}
	switch {
	case bytes.HasPrefix(content, []byte{0xfe, 0xed, 0xfe, 0xed}):
		return "Java keystore"
	case bytes.HasPrefix(content, []byte{0xce, 0xce, 0xce, 0xce}):
		return "Java keystore (JCEKS)"
	case isPKCS12(content):
		return "PKCS #12"
	case isDERPrivateKey(content):
		return "DER private key"
	}
	return ""
}

// isPKCS12 recognises a PFX: a DER SEQUENCE with version 3 and the PKCS #7 data OID
// near its start.
func isPKCS12(b []byte) bool {
	if len(b) < 32 || b[0] != 0x30 {
		return false
	}
	head := b[:min(len(b), 64)]
	return bytes.Contains(head[:min(len(head), 12)], []byte{0x02, 0x01, 0x03}) &&
		bytes.Contains(head, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01})
}

// isDERPrivateKey recognises a DER private key (PKCS #8, PKCS #1 RSA, SEC 1 EC).
func isDERPrivateKey(b []byte) bool {
	if len(b) < 32 || len(b) > 64<<10 || b[0] != 0x30 {
		return false
	}
	if _, err := x509.ParsePKCS8PrivateKey(b); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return true
	}
	_, err := x509.ParseECPrivateKey(b)
	return err == nil
}

// mediaExts are the names of media files, for archives (whose entries are checked by name).
var mediaExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".bmp": true, ".ico": true,
	".tif": true, ".tiff": true, ".avif": true, ".heic": true, ".svgz": true, ".psd": true,
	".pdf": true, ".ttf": true, ".otf": true, ".woff": true, ".woff2": true, ".eot": true,
	".mp3": true, ".mp4": true, ".m4a": true, ".wav": true, ".ogg": true, ".flac": true, ".webm": true,
	".mov": true, ".avi": true, ".mkv": true,
}

// magics are media signatures at the start of a file.
var magics = []struct {
	prefix string
	kind   string
}{
	{"\x89PNG\r\n\x1a\n", "image (PNG)"},
	{"\xff\xd8\xff", "image (JPEG)"},
	{"GIF87a", "image (GIF)"},
	{"GIF89a", "image (GIF)"},
	{"%PDF-", "document (PDF)"},
	{"BM", "image (BMP)"},
	{"\x00\x00\x01\x00", "image (ICO)"},
	{"II*\x00", "image (TIFF)"},
	{"MM\x00*", "image (TIFF)"},
	{"8BPS", "image (PSD)"},
	{"wOFF", "font (WOFF)"},
	{"wOF2", "font (WOFF2)"},
	{"OTTO", "font (OpenType)"},
	{"\x00\x01\x00\x00\x00", "font (TrueType)"},
	{"ID3", "audio (MP3)"},
	{"OggS", "audio or video (Ogg)"},
	{"fLaC", "audio (FLAC)"},
	{"\x1aE\xdf\xa3", "video (WebM/Matroska)"},
}

// Media names the kind of image, font, document or other media a binary file is, by its
// content (a zip archive counts when every entry is media by name), or returns "".
func Media(content []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(content, []byte(m.prefix)) {
			return m.kind
		}
	}
	if len(content) >= 12 && string(content[:4]) == "RIFF" {
		switch string(content[8:12]) {
		case "WEBP":
			return "image (WebP)"
		case "WAVE":
			return "audio (WAV)"
		case "AVI ":
			return "video (AVI)"
		}
	}
	if len(content) >= 12 && string(content[4:8]) == "ftyp" {
		return "image, audio or video (ISO media)"
	}
	if isZip(content) {
		r, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
		if err != nil || len(r.File) == 0 {
			return ""
		}
		for _, e := range r.File {
			if strings.HasSuffix(e.Name, "/") {
				continue
			}
			if !mediaExts[strings.ToLower(path.Ext(e.Name))] {
				return ""
			}
		}
		return "archive of media (zip)"
	}
	return ""
}

func isZip(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }

// archive names a compressed archive whose contents a scan of its bytes cannot see.
func archive(b []byte) string {
	switch {
	case isZip(b):
		return "archive (zip, jar)"
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return "compressed file (gzip)"
	case bytes.HasPrefix(b, []byte("BZh")):
		return "compressed file (bzip2)"
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "compressed file (xz)"
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "compressed file (zstd)"
	case bytes.HasPrefix(b, []byte("7z\xbc\xaf\x27\x1c")):
		return "archive (7z)"
	case bytes.HasPrefix(b, []byte("Rar!")):
		return "archive (rar)"
	}
	return ""
}

// cachedContents serves the head already read and reads the base once.
type cachedContents struct {
	src       Contents
	head      []byte
	baseRead  bool
	base      []byte
	baseErr   error
	basePath  string
	baseKnown bool
}

func (c *cachedContents) Head(context.Context, string) ([]byte, error) { return c.head, nil }

func (c *cachedContents) Base(ctx context.Context, p string) ([]byte, error) {
	if c.baseRead && c.basePath == p {
		if !c.baseKnown && c.baseErr == nil {
			return nil, ErrUnknown
		}
		return c.base, c.baseErr
	}
	if c.src == nil {
		return nil, ErrUnknown
	}
	b, err := c.src.Base(ctx, p)
	c.baseRead, c.basePath = true, p
	switch {
	case errors.Is(err, ErrUnknown):
		c.base, c.baseErr, c.baseKnown = nil, nil, false
		return nil, ErrUnknown
	case err != nil:
		c.base, c.baseErr, c.baseKnown = nil, err, false
	default:
		c.base, c.baseErr, c.baseKnown = b, nil, true
	}
	return c.base, c.baseErr
}

// baseOf is the file's base content and whether the base is known (a new file has none).
func (c *cachedContents) baseOf(ctx context.Context, f File) ([]byte, bool, error) {
	if f.Status == "added" {
		return nil, true, nil
	}
	b, err := c.Base(ctx, basePath(f))
	if errors.Is(err, ErrUnknown) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}
