package coordinator

import (
	"reflect"
	"testing"

	"github.com/sous-ml/sous/proto"
)

func TestCutShards(t *testing.T) {
	file := func(rows int64, groups ...int64) proto.DatasetFile {
		return proto.DatasetFile{Rows: rows, RowGroups: groups}
	}
	type cut struct {
		file, first, groups int
		rows                int64
	}
	cases := []struct {
		name   string
		files  []proto.DatasetFile
		target int64
		want   []cut
	}{
		{"one row", []proto.DatasetFile{file(1, 1)}, 100, []cut{{0, 0, 1, 1}}},
		{"small files are one shard each, never merged",
			[]proto.DatasetFile{file(10, 10), file(20, 5, 15)}, 100,
			[]cut{{0, 0, 1, 10}, {1, 0, 2, 20}}},
		{"a large file is cut between row groups once a shard reaches the target",
			[]proto.DatasetFile{file(350, 100, 100, 100, 50)}, 150,
			[]cut{{0, 0, 2, 200}, {0, 2, 2, 150}}},
		{"a row group larger than the target is a shard of its own",
			[]proto.DatasetFile{file(1030, 1000, 10, 10, 10)}, 20,
			[]cut{{0, 0, 1, 1000}, {0, 1, 2, 20}, {0, 3, 1, 10}}},
		{"csv files (no row groups) are one shard each",
			[]proto.DatasetFile{file(5000), file(3)}, 100,
			[]cut{{0, 0, 0, 5000}, {1, 0, 0, 3}}},
		{"empty files get no shard",
			[]proto.DatasetFile{file(0), file(0, 0), file(7, 0, 7, 0)}, 100,
			[]cut{{2, 0, 3, 7}}},
		{"trailing empty row groups do not make an empty shard",
			[]proto.DatasetFile{file(4, 2, 2, 0, 0)}, 2,
			[]cut{{0, 0, 1, 2}, {0, 1, 1, 2}}},
		{"no files", nil, 100, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := cutShards(&proto.Dataset{Files: tc.files}, tc.target)
			var cuts []cut
			var rows int64
			for i, s := range got {
				if s.Index != i || s.Count != len(got) {
					t.Errorf("shard %d: index %d, count %d of %d", i, s.Index, s.Count, len(got))
				}
				cuts = append(cuts, cut{s.File, s.FirstRowGroup, s.RowGroups, s.Rows})
				rows += s.Rows
			}
			if !reflect.DeepEqual(cuts, tc.want) {
				t.Fatalf("shards %v, want %v", cuts, tc.want)
			}
			var total int64
			for _, f := range tc.files {
				total += f.Rows
			}
			if rows != total {
				t.Fatalf("shards hold %d rows, the files %d", rows, total)
			}
		})
	}
}

// TestCutShardsIsStable: the same files cut the same way whatever else is
// in the data set, so adding a file leaves the other files' shard keys alone.
func TestCutShardsIsStable(t *testing.T) {
	a := proto.DatasetFile{Rows: 300, RowGroups: []int64{100, 100, 100}}
	b := proto.DatasetFile{Rows: 50, RowGroups: []int64{50}}
	one := cutShards(&proto.Dataset{Files: []proto.DatasetFile{a}}, 150)
	two := cutShards(&proto.Dataset{Files: []proto.DatasetFile{a, b}}, 150)
	for i := range one {
		if one[i].FirstRowGroup != two[i].FirstRowGroup || one[i].RowGroups != two[i].RowGroups || one[i].Rows != two[i].Rows {
			t.Fatalf("shard %d of the first file changed when a file was added: %+v vs %+v", i, one[i], two[i])
		}
	}
}
