# run.sh SCENARIO [sim args]: daemon + scenario, prints summary
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
SC=$1; shift
lw_start_broker "$WORK"
lw_one_node_conf t <<EOF2
[radio]
sim_clock = medium
EOF2
"$LW_BIN/lorawatch-sim" -s "$LW_SOURCE_DIR/config/scenarios/$SC.ini" --emit-node-config >> "$WORK/lorawatchd.conf"
lw_start_daemon "$WORK/lorawatchd.conf"
sleep 1
"$LW_BIN/lorawatch-sim" -s "$LW_SOURCE_DIR/config/scenarios/$SC.ini" --gateway 127.0.0.1:$LW_SIM_PORT --reply-wait 500ms -v --summary-json $WORK/s.json "$@" > $WORK/sim.log 2>&1
tail -2 $WORK/sim.log
jq -c '.nodes[] | [.name,.frames,.alarm_frames,.downlinks,.forwarded,.cancelled]' $WORK/s.json
sleep 1
sqlite3 "$WORK/lw.db" "select node, count(*), max(hops) from readings group by node"
grep -i "warn\|mesh" $WORK/lorawatchd.log | sort | uniq -c | head
