package coordinator

import "github.com/sous-ml/sous/proto"

// cutShards cuts a data set into the shards predict scores, one job each:
// every file is at least one shard (so a changed file re-scores only its
// own shards), a parquet file is cut between row groups once a shard holds
// at least target rows, and files without rows get no shard. The cut
// depends only on the files' row groups and target, so the same data gives
// the same shards and the same per-shard cache keys run after run.
func cutShards(ds *proto.Dataset, target int64) []proto.Shard {
	var out []proto.Shard
	for fi, f := range ds.Files {
		if f.Rows == 0 {
			continue
		}
		if len(f.RowGroups) == 0 {
			out = append(out, proto.Shard{File: fi, Rows: f.Rows})
			continue
		}
		cur := proto.Shard{File: fi}
		for gi, n := range f.RowGroups {
			if cur.RowGroups == 0 {
				cur.FirstRowGroup = gi
			}
			cur.RowGroups++
			cur.Rows += n
			if cur.Rows >= target {
				out = append(out, cur)
				cur = proto.Shard{File: fi}
			}
		}
		if cur.RowGroups > 0 && cur.Rows > 0 {
			out = append(out, cur)
		}
	}
	for i := range out {
		out[i].Index, out[i].Count = i, len(out)
	}
	return out
}
