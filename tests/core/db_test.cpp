#include "core/db.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"

namespace skiff {

TEST(Database, TransactionsRollBackUnlessCommitted) {
  TempDir dir;
  Database db(dir.path() / "m.db");
  db.ensure_schema("test", 1, "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)");
  {
    Transaction tx(db);
    db.prepare("INSERT INTO t VALUES (?, ?)").bind_all("a", 1).run();
  }  // no commit
  auto count = db.prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 0);
  {
    Transaction tx(db);
    db.prepare("INSERT INTO t VALUES (?, ?)").bind_all("a", 1).run();
    tx.commit();
  }
  count.reset();
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 1);
}

TEST(Database, ConstraintViolationIsConflict) {
  TempDir dir;
  Database db(dir.path() / "m.db");
  db.ensure_schema("test", 1, "CREATE TABLE t (k TEXT PRIMARY KEY)");
  db.prepare("INSERT INTO t VALUES (?)").bind_all("a").run();
  try {
    db.prepare("INSERT INTO t VALUES (?)").bind_all("a").run();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::conflict);
  }
}

TEST(Database, SchemaRunsOncePerVersion) {
  TempDir dir;
  Database db(dir.path() / "m.db");
  db.ensure_schema("test", 1, "CREATE TABLE t (k TEXT)");
  db.ensure_schema("test", 1, "CREATE TABLE t (k TEXT)");  // would fail if run again
  db.ensure_schema("test", 2, "ALTER TABLE t ADD COLUMN v INTEGER");
  db.prepare("INSERT INTO t (k, v) VALUES ('x', 1)").run();
  Database again(dir.path() / "m.db");
  again.ensure_schema("test", 2, "ALTER TABLE t ADD COLUMN v INTEGER");
}

}  // namespace skiff
