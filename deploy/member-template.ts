import { CfnParameter, Fn, Stack, type App } from 'aws-cdk-lib';
import { ArnPrincipal, PolicyDocument, Role } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { statementsOf, type Grant } from './grants.js';
import { synthesizeStack, templateSynthesizer, type CloudFormationTemplate } from './synth-template.js';

export interface MemberRoleProps {
  roleName: string;
  hubAccountId: string;
  workerRoleArn: string;
  grants: readonly Grant[];
}

export const MEMBER_POLICY = 'aws-rekey-member';

/**
 * The role the worker assumes in an account. It trusts the hub account's root, which always exists, narrowed
 * to the worker role by a condition on aws:PrincipalArn: it deploys whatever the order (a role ARN as the
 * principal fails with "Invalid principal" while that role does not exist yet).
 */
export function addMemberRole(scope: Construct, id: string, props: MemberRoleProps): Role {
  const hubRoot = new ArnPrincipal(Fn.sub('arn:${AWS::Partition}:iam::${HubAccountId}:root', { HubAccountId: props.hubAccountId }));
  return new Role(scope, id, {
    roleName: props.roleName,
    description: 'aws-rekey: assumed by the hub worker only',
    assumedBy: hubRoot.withConditions({ ArnEquals: { 'aws:PrincipalArn': props.workerRoleArn } }),
    inlinePolicies: { [MEMBER_POLICY]: new PolicyDocument({ statements: statementsOf(props.grants) }) },
  });
}

/** The template the StackSet deploys to every member account: the member role, from its three parameters. */
export function memberTemplate(grants: readonly Grant[]): CloudFormationTemplate {
  return synthesizeStack((app: App) => {
    const stack = new Stack(app, 'AwsRekeyMember', {
      synthesizer: templateSynthesizer(),
      description: "aws-rekey member role: lets the hub account's worker rotate IAM access keys in this account.",
    });
    const roleName = new CfnParameter(stack, 'RoleName', { type: 'String', description: 'Name of the role.' });
    const hubAccountId = new CfnParameter(stack, 'HubAccountId', { type: 'String', allowedPattern: '^\\d{12}$', description: 'The hub account.' });
    const workerRoleArn = new CfnParameter(stack, 'WorkerRoleArn', { type: 'String', description: 'The only principal that may assume the role.' });
    addMemberRole(stack, 'Role', { roleName: roleName.valueAsString, hubAccountId: hubAccountId.valueAsString, workerRoleArn: workerRoleArn.valueAsString, grants });
    return stack;
  });
}
