module example.com/tandemclienttest

go 1.26.8

require github.com/tandemhq/tandem v0.0.0-00010101000000-000000000000

replace github.com/tandemhq/tandem => ../..
