import assert from "node:assert/strict";
import { recordPropagatedLines, RespClient, startRedeno } from "./helpers.ts";
import { compareSteps, IGNORE_SIDE_BY_SIDE, type Step, withPair } from "./side_by_side.ts";
import { decodeScore, encodeScore, geoDistance, standardGeohash } from "../src/store/geohash.ts";

const SICILY: Step[] = [
  ["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
  ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
  ["GEODIST", "Sicily", "Palermo", "Catania"],
  ["GEODIST", "Sicily", "Palermo", "Catania", "km"],
  ["GEODIST", "Sicily", "Palermo", "Catania", "MI"],
  ["GEODIST", "Sicily", "Palermo", "Catania", "ft"],
  ["GEODIST", "Sicily", "Palermo", "Catania", "yd"],
  ["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"],
  ["GEODIST", "Sicily", "Palermo", "nope"],
  ["GEODIST", "nokey", "a", "b"],
  ["GEOHASH", "Sicily", "Palermo", "Catania", "nope"],
  ["GEOHASH", "nokey", "a"],
  ["GEOPOS", "Sicily", "Palermo", "Catania", "nope"],
  ["GEOPOS", "nokey", "a"],
  ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"],
  ["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"],
  ["GEORADIUS", "Sicily", "15", "37", "100", "km"],
  ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"],
  ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"],
  ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "x", "WITHDIST"],
  ["GEORADIUS", "Sicily", "15", "37", "-1", "km"],
  ["GEORADIUS", "Sicily", "15", "37", "x", "km"],
  ["GEORADIUS", "Sicily", "15", "37", "1", "km", "FOO"],
  ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"],
  ["GEOADD", "Sicily", "200", "100", "x"],
  ["GEOADD", "Sicily", "inf", "0", "x"],
  ["GEOADD", "Sicily", "abc", "0", "x"],
  ["GEOADD", "Sicily", "NX", "XX", "1", "1", "x"],
  ["GEOADD", "Sicily", "1", "1"],
  ["GEOADD", "Sicily", "CH", "13.583333", "37.316667", "Agrigento", "13.4", "38.1", "Palermo"],
  ["GEOADD", "Sicily", "XX", "1", "1", "nope"],
  ["GEOADD", "Sicily", "NX", "1", "1", "Palermo"],
  [
    "GEOSEARCH",
    "Sicily",
    "FROMLONLAT",
    "15",
    "37",
    "BYBOX",
    "400",
    "400",
    "km",
    "ASC",
    "WITHCOORD",
    "WITHDIST",
  ],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "ASC", "COUNT", "2"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "COUNT", "1", "ANY"],
  ["GEOSEARCH", "Sicily", "BYRADIUS", "200", "km"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "m"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "ANY"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "-2", "km"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "2", "yd"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "km"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "x", "1", "km"],
  ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STORE", "x"],
  ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"],
  [
    "GEOSEARCHSTORE",
    "dst",
    "Sicily",
    "FROMLONLAT",
    "15",
    "37",
    "BYRADIUS",
    "200",
    "km",
    "STOREDIST",
  ],
  ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
  ["OBJECT", "ENCODING", "dst"],
  [
    "GEOSEARCHSTORE",
    "dst",
    "Sicily",
    "FROMLONLAT",
    "15",
    "37",
    "BYRADIUS",
    "200",
    "km",
    "WITHDIST",
  ],
  ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
  ["EXISTS", "dst"],
  ["GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km", "STORE", "d2"],
  ["ZRANGE", "d2", "0", "-1", "WITHSCORES"],
  ["GEORADIUSBYMEMBER", "Sicily", "nope", "100", "km"],
  ["GEORADIUSBYMEMBER_RO", "Sicily", "Agrigento", "100", "km", "WITHDIST", "ASC"],
  ["GEORADIUS_RO", "nokey", "15", "37", "100", "km"],
  ["GEORADIUSBYMEMBER", "nokey", "x", "100", "km", "STORE", "d2"],
  ["EXISTS", "d2"],
  ["SET", "str", "v"],
  ["GEOADD", "str", "1", "1", "a"],
  ["GEOPOS", "str", "a"],
  ["GEOSEARCH", "str", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km"],
];

Deno.test({
  name: "geo commands reply byte-for-byte like redis-server (scores, hashes, distances)",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      assert.deepEqual(await compareSteps(p, SICILY), []);
      await p.both("HELLO", "3");
      assert.deepEqual(
        await compareSteps(p, [
          ["GEOPOS", "Sicily", "Palermo", "nope"],
          [
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "300",
            "km",
            "ASC",
            "WITHCOORD",
            "WITHDIST",
            "WITHHASH",
          ],
        ]),
        [],
      );
    });
  },
});

Deno.test({
  name: "geo searches over random points worldwide match redis-server, poles included",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pts: string[] = [];
    for (let i = 0; i < 300; i++) {
      pts.push(String(rnd() * 360 - 180), String(rnd() * 170 - 85), `p${i}`);
    }
    const steps: Step[] = [["GEOADD", "w", ...pts], ["ZRANGE", "w", "0", "-1", "WITHSCORES"]];
    for (let i = 0; i < 300; i += 10) {
      steps.push(["GEOPOS", "w", `p${i}`, `p${i + 1}`], ["GEOHASH", "w", `p${i}`, `p${i + 2}`]);
      steps.push(["GEODIST", "w", `p${i}`, `p${i + 5}`, "km"]);
    }
    for (const r of ["50", "1000", "3000", "9000"]) {
      for (let i = 0; i < 30; i += 6) {
        steps.push([
          "GEOSEARCH",
          "w",
          "FROMMEMBER",
          `p${i}`,
          "BYRADIUS",
          r,
          "km",
          "ASC",
          "WITHDIST",
        ]);
        steps.push([
          "GEOSEARCH",
          "w",
          "FROMMEMBER",
          `p${i}`,
          "BYBOX",
          r,
          r,
          "km",
          "DESC",
          "WITHHASH",
        ]);
        steps.push(["GEORADIUS", "w", pts[i * 3], pts[i * 3 + 1], r, "km"]);
      }
    }
    steps.push(
      [
        "GEOADD",
        "poles",
        "0",
        "85",
        "n",
        "179.9",
        "84",
        "e",
        "-179.9",
        "84.5",
        "w",
        "0",
        "-85",
        "s",
      ],
      [
        "GEOSEARCH",
        "poles",
        "FROMLONLAT",
        "0",
        "85",
        "BYRADIUS",
        "5000",
        "km",
        "ASC",
        "WITHDIST",
        "WITHCOORD",
      ],
      [
        "GEOSEARCH",
        "poles",
        "FROMLONLAT",
        "180",
        "-85",
        "BYBOX",
        "20000",
        "20000",
        "km",
        "ASC",
        "WITHDIST",
      ],
    );
    await withPair(async (p) => {
      assert.deepEqual(await compareSteps(p, steps), []);
    });
  },
});

Deno.test("geohash scores round-trip and distances follow Redis's haversine", () => {
  const score = encodeScore(13.361389, 38.115556);
  assert.equal(score, 3479099956230698);
  const [lon, lat] = decodeScore(score);
  assert.ok(Math.abs(lon - 13.361389) < 1e-5 && Math.abs(lat - 38.115556) < 1e-5);
  assert.equal(standardGeohash(score), "sqc8b49rny0");
  const d = geoDistance(
    13.361389338970184,
    38.1155563954963,
    15.087267458438873,
    37.50266842333162,
  );
  assert.ok(Math.abs(d - 166274.1516) < 1e-4);
});

Deno.test("GEOADD is propagated as ZADD with geohash scores", async () => {
  const t = await startRedeno();
  const propagated = recordPropagatedLines(t);
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"), 1);
    assert.equal(await c.call("GEOADD", "g", "13.361389", "38.115556", "Palermo"), 0);
    assert.deepEqual(propagated, ["zadd g CH 3479099956230698 Palermo"]);
  } finally {
    c.close();
    await t.stop();
  }
});
