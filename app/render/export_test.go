package render

// UpdateGolden lets the package's external tests share the -update flag.
var UpdateGolden = update
