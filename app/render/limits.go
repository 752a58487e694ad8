package render

// GitHub's limits on what escapegate posts, in one place. Everything rendered here
// stays within them; counting bytes bounds characters, so byte counts are the safe side.
const (
	// MaxChars is the most characters GitHub takes in a check run's summary, in its
	// text, and in a comment or issue body.
	MaxChars = 65535
	// MaxTitle bounds a check run's title: GitHub shows it on one line.
	MaxTitle = 255
	// MaxAnnotations caps the annotations of one check run (GitHub takes 50 per API call;
	// app/gh sends them in batches); the rest are counted in the summary.
	MaxAnnotations = 500

	maxAnnotationMsg  = 4000 // GitHub allows 64 KB; a line annotation needs far less
	maxAnnotationHead = 255
	maxValueRunes     = 120 // a path or value in a report's table
)
