#include "raftor/actors/interfaces.hpp"

namespace raftor {

void register_message_types(caf::actor_system_config& config) {
  config.add_message_type<ClientReply>("raftor.ClientReply");
  config.add_message_type<NodeStatus>("raftor.NodeStatus");
  config.add_message_type<LogId>("raftor.LogId");
  config.add_message_type<Entry>("raftor.Entry");
  config.add_message_type<ApplyResult>("raftor.ApplyResult");
  config.add_message_type<CommittedEntries>("raftor.CommittedEntries");
  config.add_message_type<AppliedEntries>("raftor.AppliedEntries");
  config.add_message_type<AppliedRequest>("raftor.AppliedRequest");
  config.add_message_type<AppliedRequests>("raftor.AppliedRequests");
  config.add_message_type<ReadConsistency>("raftor.ReadConsistency");
  config.add_message_type<std::vector<std::string>>("std::vector<std::string>");
  config.add_message_type<ApplyProgress>("raftor.ApplyProgress");
  config.add_message_type<Membership>("raftor.Membership");
  config.add_message_type<MembershipChange>("raftor.MembershipChange");
  config.add_message_type<SnapshotMetadata>("raftor.SnapshotMetadata");
  config.add_message_type<SnapshotReply>("raftor.SnapshotReply");
}

}  // namespace raftor
