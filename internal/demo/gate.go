package demo

// gateGenerators fill the history of CI/CD gates, post-deploy verification and migration checks.
var gateGenerators = []generator{}
