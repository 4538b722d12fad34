"""TMC-LM: a small transformer pretrained on TMC paths, post-trained with the harness's six methods, and
measured exactly against the tabular theory. Modules: tokenizer, pretrain, measure, reward, posttrain, inference,
compare, config, cli (``tmc tmclm``). See docs/tmclm.md."""
