package config

// loadOpenSLO decodes the OpenSLO documents collected by parseFile.
func (l *loader) loadOpenSLO() {
	for _, d := range l.openslo {
		l.errAt(d.file, d.node, "apiVersion", "apiVersion", "OpenSLO documents are not supported by this build")
	}
}
