package app

// TrustProxies exposes trustProxies to the external tests.
var TrustProxies = trustProxies
