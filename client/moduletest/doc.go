// Package moduletest is a module of its own that uses tandem's Go client
// the way another project would: through the module's public packages
// only, since Go refuses imports of tandem's internal packages from here.
// Its test starts a real tandem binary and talks to it through the client.
package moduletest
