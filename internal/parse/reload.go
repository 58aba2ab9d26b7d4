package parse

// Reload puts the pipeline of cfg in p's place (a configuration reload):
// every parser made of p parses its next record with cfg's sources and
// raw record policies. cfg is checked first; on an error nothing changes.
// p's Aliases setting is kept.
func (p *Pipeline) Reload(cfg Config) error {
	cfg.Aliases = p.aliases
	np, err := New(cfg)
	if err != nil {
		return err
	}
	p.next.Store(np)
	return nil
}

// refresh makes pp parse with the pipeline last reloaded in place of the
// one it was made of.
func (pp *Parser) refresh() {
	if n := pp.root.next.Load(); n != nil && n != pp.p {
		pp.p = n
	}
}
