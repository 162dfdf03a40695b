using TorchSerial.Judge;

// LibTorch 2.10 as a judge of TorchSerial, one command per process (a LibTorch error can abort the process, so the
// tests run this as a child and batch their questions into few calls):
//   casts DIR                  what .to(dtype) gives for values chosen to break casts, as files under DIR
//   write DIR [SCRIPTED.pt...] files LibTorch writes itself (torch.save through TorchScript; jit.save of modules
//                              torch 1.13 scripted), with DIR/expected.json naming every tensor's bytes
//   read FILE...               what LibTorch's torch::pickle_load makes of files TorchSerial wrote (JSON on stdout)
try
{
    return args switch
    {
        ["casts", var dir] => CastJudge.Run(dir),
        ["write", var dir, .. var scripted] => WriteJudge.Run(dir, scripted),
        ["read", .. var files] when files.Length > 0 => ReadJudge.Run(files),
        _ => Usage(),
    };
}
catch (Exception e)
{
    Console.Error.WriteLine($"judge: {e.GetType().Name}: {e.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: TorchSerial.Judge casts DIR | write DIR [SCRIPTED.pt...] | read FILE...");
    return 2;
}
